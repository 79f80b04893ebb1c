// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

/// @dev Test-only contract account (e.g. a smart-account signing key): forwards a call and bubbles
/// up its revert data, so `msg.sender` of the target is this contract while `tx.origin` is an EOA.
/// Not part of ./contracts: compiled by the tests with the pinned solc-js (see helpers.js).
contract Forwarder {
    function forward(address target, bytes calldata data) external returns (bytes memory result) {
        bool success;
        (success, result) = target.call(data);
        if (!success) {
            assembly ("memory-safe") {
                revert(add(result, 0x20), mload(result))
            }
        }
    }
}
