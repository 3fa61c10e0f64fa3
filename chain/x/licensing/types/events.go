package types

// Event types of the licensing module (the keeper emits "sahara.licensing.v1."+name); indexers read these.
const (
	EventTermsCreated       = "sahara.licensing.v1.terms_created"
	EventTermsAttached      = "sahara.licensing.v1.terms_attached"
	EventLicenseMinted      = "sahara.licensing.v1.license_minted"
	EventLicenseTransferred = "sahara.licensing.v1.license_transferred"
	EventLicenseRevoked     = "sahara.licensing.v1.license_revoked"
)
