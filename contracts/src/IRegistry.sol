// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/// Sahara asset registry (x/registry), a precompile at 0x0000000000000000000000000000000000000900.
/// Kinds: 1 DATASET, 2 MODEL, 3 AGENT, 4 KNOWLEDGE_BASE.
/// Edge types: 1 TRAINED_ON, 2 FINETUNED_FROM, 3 DERIVED_FROM, 4 USES, 5 EMBEDS, 6 AGGREGATES.
/// Shares are in 1e8 units (1e8 = 100%). The caller is the owner of what it registers.
/// Every write returns a value: Solidity refuses to call a function without return data on an
/// address without code, and precompiles have none.
interface IRegistry {
    struct Parent {
        uint64 parentId;
        uint8 edgeType;
        uint64 licenseId;
    }

    event AssetRegistered(uint64 indexed id, address indexed owner, uint8 kind, uint32 ancestors, uint64 royaltyStack);
    event VersionAdded(uint64 indexed id, uint32 version, bytes32 contentRoot);
    event OwnershipTransferred(uint64 indexed id, address indexed to);
    event SharesTransferred(uint64 indexed id, address indexed from, address indexed to, uint64 shares);

    function registerAsset(
        uint8 kind,
        string calldata name,
        string calldata uri,
        bytes32 contentRoot,
        uint64 size,
        Parent[] calldata parents
    ) external returns (uint64 id);

    function addVersion(uint64 id, string calldata uri, bytes32 contentRoot, uint64 size) external returns (uint32 version);

    function transferOwnership(uint64 id, address newOwner) external returns (bool);

    function transferShares(uint64 id, address to, uint64 shares) external returns (bool);

    function getAsset(uint64 id)
        external
        view
        returns (uint8 kind, string memory name, address owner, string memory uri, bytes32 contentRoot, uint64 size, uint32 version, uint64 royaltyStack);

    function sharesOf(uint64 id, address holder) external view returns (uint64);

    /// Flattened ancestors and their shares of every payment into `id` (1e8 units).
    function lineage(uint64 id) external view returns (uint64[] memory ancestors, uint64[] memory shares);
}
