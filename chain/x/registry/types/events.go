package types

// Event types of the registry module; indexers read these.
const (
	EventAssetRegistered      = "sahara.registry.v1.asset_registered"
	EventVersionAdded         = "sahara.registry.v1.version_added"
	EventOwnershipTransferred = "sahara.registry.v1.ownership_transferred"
	EventSharesTransferred    = "sahara.registry.v1.shares_transferred"
)
