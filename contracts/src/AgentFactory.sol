// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import "./IRegistry.sol";
import "./ILicensing.sol";
import "./IRoyalty.sol";

/// An agent factory on top of the protocol precompiles: it licenses a model, registers an agent
/// derived from it (owned by this contract), and takes payments for its agents.
contract AgentFactory {
    IRegistry public constant REGISTRY = IRegistry(0x0000000000000000000000000000000000000900);
    ILicensing public constant LICENSING = ILicensing(0x0000000000000000000000000000000000000901);
    IRoyalty public constant ROYALTY = IRoyalty(0x0000000000000000000000000000000000000902);

    event AgentCreated(uint64 indexed agentId, uint64 indexed modelId, uint64 licenseId);

    /// Mints a license of the model (its fee paid from this contract's balance, capped by maxFee)
    /// and registers an agent derived from it.
    function createAgent(uint64 modelId, uint64 termsId, string memory name, bytes32 root, uint256 maxFee)
        public
        returns (uint64 agentId, uint64 licenseId)
    {
        licenseId = LICENSING.mintLicense(modelId, termsId, address(this), "asah", maxFee, 10_000);
        IRegistry.Parent[] memory parents = new IRegistry.Parent[](1);
        parents[0] = IRegistry.Parent(modelId, 3, licenseId);
        agentId = REGISTRY.registerAsset(3, name, "", root, 0, parents);
        emit AgentCreated(agentId, modelId, licenseId);
    }

    /// Does everything createAgent does, then reverts: nothing of it may remain.
    function createAgentThenRevert(uint64 modelId, uint64 termsId, bytes32 root, uint256 maxFee) external {
        createAgent(modelId, termsId, "doomed", root, maxFee);
        revert("rolled back on purpose");
    }

    /// Pays msg.value (native asah) into an agent.
    function payAgent(uint64 agentId) external payable {
        ROYALTY.pay(agentId, "asah", msg.value);
    }

    /// Claims what this contract earned as the agents' shareholder.
    function claim() external returns (uint64) {
        return ROYALTY.claim(0);
    }

    /// Tries to write through a read-only (staticcall) path: must fail.
    function registerInView() external view returns (uint64) {
        IRegistry.Parent[] memory none;
        (bool ok, bytes memory out) = address(REGISTRY).staticcall(
            abi.encodeCall(IRegistry.registerAsset, (1, "x", "", bytes32(uint256(1)), 0, none))
        );
        require(ok, "write refused in a static call");
        return abi.decode(out, (uint64));
    }

    receive() external payable {}
}
