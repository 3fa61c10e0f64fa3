// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/// Sahara royalties (x/royalty), a precompile at 0x0000000000000000000000000000000000000902.
/// Amounts are in the denom's smallest unit; the chain's native coin is "asah" (wei).
/// Every write returns a value: Solidity refuses to call a function without return data on an
/// address without code, and precompiles have none.
interface IRoyalty {
    event Paid(uint64 indexed assetId, address indexed payer, string denom, uint256 amount, uint256 toAncestors);
    event Claimed(address indexed claimant, string denom, uint256 amount);

    /// Pays `amount` of `denom` from the caller into the asset: ancestors take their shares, the rest
    /// goes to the asset's shareholders.
    function pay(uint64 assetId, string calldata denom, uint256 amount) external returns (uint256 toAncestors);

    /// Claims everything the caller is owed, in every denom, over up to max_claim_assets assets
    /// after `startAfter`. Returns where to continue (0: done).
    function claim(uint64 startAfter) external returns (uint64 next);

    function claimable(address holder, string calldata denom) external view returns (uint256);
}
