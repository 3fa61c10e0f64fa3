// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/// Sahara data-task escrow (x/datatask), a precompile at 0x0000000000000000000000000000000000000903.
/// A pool escrows rewards for a labelling project in one or more denoms ("asah" is the native coin;
/// a partner ERC-20 registered through x/erc20 is the bank denom "erc20:0x…"). Its QA authorities
/// post payout batches, each batch id at most once; the requester takes back what is left after the
/// deadline; the finished dataset is minted as an asset shared by its contributors.
/// Every write returns a value: Solidity refuses to call a function without return data on an
/// address without code, and precompiles have none.
interface IDataTask {
    event PoolCreated(uint64 indexed poolId, address indexed requester, string name);
    event PayoutsPosted(uint64 indexed poolId, uint64 indexed batchId, uint256 entries);
    event PoolClosed(uint64 indexed poolId);
    event DatasetMinted(uint64 indexed poolId, uint64 indexed assetId);

    /// Escrows deposits[i] of denoms[i] from the caller. rates[i] is the price of one accepted unit in
    /// denoms[i]; an entry may pay up to units * rate * (10000 + maxBonusBps) / 10000. deadline is in
    /// unix seconds; requesterShare (of 1e8) is the caller's part of the minted dataset.
    function createPool(string calldata name, address[] calldata authorities, string[] calldata denoms,
        uint256[] calldata deposits, uint256[] calldata rates, uint32 maxBonusBps, int64 deadline,
        uint64 requesterShare) external returns (uint64 poolId);

    /// Adds amount of denom from the caller to an open pool.
    function fundPool(uint64 poolId, string calldata denom, uint256 amount) external returns (bool);

    /// Pays a batch (QA authority only): to[i] gets amounts[i][j] of denoms[j] for units[i] accepted
    /// units of quality-weighted work weights[i]. batchId must be above the pool's last batch.
    function postPayouts(uint64 poolId, uint64 batchId, string[] calldata denoms, address[] calldata to,
        uint256[][] calldata amounts, uint64[] calldata units, uint64[] calldata weights) external returns (bool);

    /// Closes the pool and refunds what it holds to the requester (requester after the deadline, or
    /// a QA authority at any time).
    function closePool(uint64 poolId) external returns (bool);

    /// Registers the finished dataset (requester or QA authority), shared by the contributors.
    function mintDataset(uint64 poolId, string calldata name, string calldata uri, bytes32 contentRoot,
        uint64 size) external returns (uint64 assetId);

    /// The pool's state: requester, whether it is open, last applied batch, minted dataset (0: none).
    function pool(uint64 poolId) external view returns (address requester, bool open, uint64 lastBatch,
        uint64 datasetId, int64 deadline);

    /// What the pool still holds in denom.
    function held(uint64 poolId, string calldata denom) external view returns (uint256);
}
