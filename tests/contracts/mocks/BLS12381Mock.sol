// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {BLS12381} from "contracts/libraries/BLS12381.sol";

/// @dev Test-only window on the BLS12381 library (internal functions, exposed one to one).
/// Not part of ./contracts: compiled by the tests with the pinned solc-js (see helpers/index.js).
contract BLS12381Mock {
    function expandMessageXmd(bytes memory message, bytes memory dst, uint256 lenInBytes)
        external
        view
        returns (bytes memory)
    {
        return BLS12381.expandMessageXmd(message, dst, lenInBytes);
    }

    function hashToFieldFp2(bytes memory message, bytes memory dst)
        external
        view
        returns (bytes memory u0, bytes memory u1)
    {
        return BLS12381.hashToFieldFp2(message, dst);
    }

    function mapFp2ToG2(bytes memory u) external view returns (bytes memory) {
        return BLS12381.mapFp2ToG2(u);
    }

    function hashToG2(bytes memory message, bytes memory dst) external view returns (bytes memory) {
        return BLS12381.hashToG2(message, dst);
    }

    function g1Add(bytes memory a, bytes memory b) external view returns (bool valid, bytes memory sum) {
        return BLS12381.g1Add(a, b);
    }

    function g2Add(bytes memory a, bytes memory b) external view returns (bytes memory) {
        return BLS12381.g2Add(a, b);
    }

    function isInG1(bytes memory point) external view returns (bool) {
        return BLS12381.isInG1(point);
    }

    function pairing2(bytes memory a1, bytes memory b1, bytes memory a2, bytes memory b2)
        external
        view
        returns (bool valid, bool holds)
    {
        return BLS12381.pairing2(a1, b1, a2, b2);
    }

    function verify(bytes memory publicKey, bytes memory message, bytes memory dst, bytes memory signature)
        external
        view
        returns (bool)
    {
        return BLS12381.verify(publicKey, message, dst, signature);
    }

    function isG1Encoding(bytes memory point) external pure returns (bool) {
        return BLS12381.isG1Encoding(point);
    }

    function isG2Encoding(bytes memory point) external pure returns (bool) {
        return BLS12381.isG2Encoding(point);
    }

    function compressG1(bytes memory point) external pure returns (bytes memory) {
        return BLS12381.compressG1(point);
    }

    /// @dev Gas of `hashToG2` (for the figures of the tests).
    function hashToG2Gas(bytes memory message, bytes memory dst) external view returns (uint256 used) {
        uint256 before = gasleft();
        BLS12381.hashToG2(message, dst);
        used = before - gasleft();
    }
}
