// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";

/// @dev Test-only probe of signature recovery: OpenZeppelin's ECDSA, as LicenseRegistry uses it,
/// next to the bare ecrecover precompile (which accepts either of the two s values of a signature).
/// Not part of ./contracts: compiled by the tests with the pinned solc-js (see helpers/index.js).
contract SignatureRecovery {
    /// @dev ECDSA.recover of a 65-byte `r || s || v` signature (reverts on an invalid one).
    function recover(bytes32 hash, bytes calldata signature) external pure returns (address) {
        return ECDSA.recoverCalldata(hash, signature);
    }

    /// @dev ECDSA.recover of an EIP-2098 compact signature (reverts on an invalid one).
    function recoverCompact(bytes32 hash, bytes32 r, bytes32 vs) external pure returns (address) {
        return ECDSA.recover(hash, r, vs);
    }

    /// @dev The ecrecover precompile: the zero address when no key signed `hash` with `(v, r, s)`.
    function ecrecoverRaw(bytes32 hash, uint8 v, bytes32 r, bytes32 s) external pure returns (address) {
        return ecrecover(hash, v, r, s);
    }
}
