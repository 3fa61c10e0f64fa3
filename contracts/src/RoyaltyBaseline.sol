// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/// The registry's register, the royalty's pay and claim written as a plain contract, for
/// bench/protocols to compare against the native modules on the same chain. Same rules where it
/// matters for cost: a license per parent, flattened ancestors merged at registration (largest
/// share wins), one pass over the ancestors per payment, a reward-per-share accumulator, one claim
/// over every position. Simplifications (they only make this version cheaper): one denom (the
/// native coin), no kinds, versions, URIs or events beyond one per call, no per-holder remainder.
contract RoyaltyBaseline {
    uint256 constant TOTAL = 1e8;

    struct Parent {
        uint64 parentId;
        uint8 edgeType;
        uint64 licenseId;
    }

    struct License {
        uint64 asset;
        address holder;
        uint32 bps;
        bool derivatives;
    }

    address public immutable admin;
    uint64 public nextId = 1;
    uint64 public maxAncestors = 4096;
    uint64 public maxStack = 5e7;

    mapping(uint64 => address) public ownerOf;
    mapping(uint64 => uint64[]) internal ancestorIds;
    mapping(uint64 => mapping(uint64 => uint64)) public ancestorShare;
    mapping(uint64 => License) public licenses;
    mapping(uint64 => uint256) public distributed;
    mapping(uint64 => mapping(address => uint64)) public shares;
    mapping(uint64 => mapping(address => uint256)) public snapshot;
    mapping(address => uint64[]) internal positions;

    event Registered(uint64 indexed id, address indexed owner, bytes32 root, uint64 stack);
    event Paid(uint64 indexed id, address indexed payer, uint256 amount, uint256 toAncestors);
    event Claimed(address indexed claimant, uint256 amount);

    constructor() {
        admin = msg.sender;
    }

    function register(string calldata, bytes32 root, Parent[] calldata parents) external returns (uint64 id) {
        id = nextId++;
        uint64 stack;
        for (uint256 i = 0; i < parents.length; i++) {
            Parent calldata p = parents[i];
            require(ownerOf[p.parentId] != address(0), "parent does not exist");
            License memory l = licenses[p.licenseId];
            require(l.asset == p.parentId && l.holder == msg.sender && l.derivatives, "parent license does not allow this");
            stack += _merge(id, p.parentId, uint64(l.bps) * 1e4);
            uint64[] storage anc = ancestorIds[p.parentId];
            for (uint256 j = 0; j < anc.length; j++) {
                stack += _merge(id, anc[j], ancestorShare[p.parentId][anc[j]]);
            }
        }
        require(ancestorIds[id].length <= maxAncestors, "too many ancestors");
        require(stack <= maxStack, "royalty stack above the cap");
        ownerOf[id] = msg.sender;
        shares[id][msg.sender] = uint64(TOTAL);
        positions[msg.sender].push(id);
        emit Registered(id, msg.sender, root, stack);
    }

    /// Adds an ancestor or raises its share; returns how much the stack grew.
    function _merge(uint64 id, uint64 a, uint64 s) internal returns (uint64) {
        uint64 cur = ancestorShare[id][a];
        if (cur == 0) {
            ancestorIds[id].push(a);
            ancestorShare[id][a] = s;
            return s;
        }
        if (s > cur) {
            ancestorShare[id][a] = s;
            return s - cur;
        }
        return 0;
    }

    function pay(uint64 id) external payable returns (uint256 up) {
        require(ownerOf[id] != address(0), "asset does not exist");
        uint256 amount = msg.value;
        uint64[] storage anc = ancestorIds[id];
        for (uint256 i = 0; i < anc.length; i++) {
            uint64 a = anc[i];
            uint256 cut = (amount * ancestorShare[id][a]) / TOTAL;
            if (cut > 0) {
                distributed[a] += cut;
                up += cut;
            }
        }
        distributed[id] += amount - up;
        emit Paid(id, msg.sender, amount, up);
    }

    function claim() external returns (uint256 total) {
        uint64[] storage ps = positions[msg.sender];
        for (uint256 i = 0; i < ps.length; i++) {
            uint64 a = ps[i];
            uint256 d = distributed[a];
            total += (uint256(shares[a][msg.sender]) * (d - snapshot[a][msg.sender])) / TOTAL;
            snapshot[a][msg.sender] = d;
        }
        (bool ok, ) = payable(msg.sender).call{value: total}("");
        require(ok, "transfer failed");
        emit Claimed(msg.sender, total);
    }

    // Bench setup (admin only): the same starting state the native chain gets from its genesis.

    function seedAssets(uint64 first, uint64 count, address owner) external {
        require(msg.sender == admin, "admin only");
        for (uint64 id = first; id < first + count; id++) {
            ownerOf[id] = owner;
            shares[id][owner] = uint64(TOTAL);
        }
        if (first + count > nextId) nextId = first + count;
    }

    function seedAncestors(uint64 id, uint64[] calldata ids, uint64 share) external {
        require(msg.sender == admin, "admin only");
        for (uint256 i = 0; i < ids.length; i++) {
            ancestorIds[id].push(ids[i]);
            ancestorShare[id][ids[i]] = share;
        }
    }

    function seedLicenses(uint64 firstId, uint64 firstAsset, uint64 count, address holder, uint32 bps) external {
        require(msg.sender == admin, "admin only");
        for (uint64 i = 0; i < count; i++) {
            licenses[firstId + i] = License(firstAsset + i, holder, bps, true);
        }
    }

    function seedShares(uint64 firstAsset, uint64 count, address[] calldata holders, uint64 each) external {
        require(msg.sender == admin, "admin only");
        for (uint64 a = firstAsset; a < firstAsset + count; a++) {
            delete shares[a][ownerOf[a]];
            for (uint256 h = 0; h < holders.length; h++) {
                shares[a][holders[h]] = each;
                positions[holders[h]].push(a);
            }
        }
    }
}
