// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

/// @dev Test-only contract account (e.g. a smart-account signing key): forwards a call and bubbles
/// up its revert data, so `msg.sender` of the target is this contract while `tx.origin` is an EOA.
/// As an ERC-1271 account it approves the signatures of its deployer (`owner`), so it can accept
/// becoming an issuer's key. Not part of ./contracts: compiled by the tests with the pinned solc-js
/// (see helpers/index.js).
contract Forwarder {
    address public immutable owner;

    constructor() {
        owner = msg.sender;
    }

    function forward(address target, bytes calldata data) external returns (bytes memory result) {
        bool success;
        (success, result) = target.call(data);
        if (!success) {
            assembly ("memory-safe") {
                revert(add(result, 0x20), mload(result))
            }
        }
    }

    /// @dev ERC-1271: `0x1626ba7e` when `signature` is the owner's 65-byte signature of `hash`.
    function isValidSignature(bytes32 hash, bytes calldata signature) external view returns (bytes4) {
        if (signature.length != 65) return 0xffffffff;
        bytes32 r = bytes32(signature[0:32]);
        bytes32 s = bytes32(signature[32:64]);
        uint8 v = uint8(signature[64]);
        return ecrecover(hash, v, r, s) == owner ? bytes4(0x1626ba7e) : bytes4(0xffffffff);
    }
}
