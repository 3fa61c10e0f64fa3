package types

// Event types of the datatask module; indexers read these.
const (
	EventPoolCreated   = "sahara.datatask.v1.pool_created"
	EventPoolFunded    = "sahara.datatask.v1.pool_funded"
	EventPayoutsPosted = "sahara.datatask.v1.payouts_posted"
	EventPoolClosed    = "sahara.datatask.v1.pool_closed"
	EventDatasetMinted = "sahara.datatask.v1.dataset_minted"
)
