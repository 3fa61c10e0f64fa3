// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/// @title Counter: state, events with indexed topics and a revert, for tests.
contract Counter {
    uint256 public count;
    mapping(address => uint256) public bumps;

    event Bumped(address indexed by, uint256 indexed newCount, string note);

    function bump(string calldata note) external returns (uint256) {
        count += 1;
        bumps[msg.sender] += 1;
        emit Bumped(msg.sender, count, note);
        return count;
    }

    function fail() external pure {
        revert("Counter: always fails");
    }
}
