package types

// Event types and attribute values of the royalty module; indexers read these.
const (
	EventPaid    = "sahara.royalty.v1.paid"
	EventClaimed = "sahara.royalty.v1.claimed"

	// Reasons a paid event records.
	ReasonPayment    = "payment"     // anyone paying the asset (royalty pay, IRoyalty.pay)
	ReasonLicenseFee = "license_fee" // a license's mint fee
)
