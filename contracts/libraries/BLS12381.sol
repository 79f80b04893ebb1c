// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

/// @title BLS12381
/// @notice BLS12-381 over the EIP-2537 precompiles (at their final addresses): G1 addition, G1
/// subgroup check, hash to G2 (RFC 9380, suite `BLS12381G2_XMD:SHA-256_SSWU_RO_`), the pairing
/// check of a BLS signature with the public key in G1 and the signature in G2 (IETF BLS signature
/// scheme, draft-irtf-cfrg-bls-signature-05), and the ZCash compressed form of a G1 point.
/// @dev Points use the EIP-2537 encodings: a G1 point is 128 bytes (x, y as 64-byte big-endian
/// words, each 16 zero bytes followed by the 48-byte value), a G2 point 256 bytes (x.c0, x.c1,
/// y.c0, y.c1), the point at infinity all zero.
///
/// Every precompile call is checked twice: a call that succeeds must return exactly the expected
/// number of bytes (an EVM without EIP-2537 runs a call to those addresses as a call to an empty
/// account: success, no output), otherwise `BLS12381PrecompileFailed`. A call that fails is a
/// refusal of the input (a point not on the curve, not in the subgroup, a coordinate not below
/// p) only when the precompile was given all the gas it was meant to have; when it may have run
/// short of gas, `BLS12381PrecompileFailed` again. Each call forwards a bounded amount of gas
/// (about 1.5 times the EIP-2537 price), so a refused input burns little.
library BLS12381 {
    /// @notice The precompile at `precompile` gave no result of the expected length (the EVM does
    /// not implement it: EIP-2537 needs Prague or later), or failed when it may have lacked gas.
    error BLS12381PrecompileFailed(address precompile);

    /// @notice `expand_message_xmd` takes a domain separation tag of at most 255 bytes and an
    /// output length from 1 to 8,160 bytes (255 SHA-256 blocks).
    error BLS12381InvalidExpandInput(uint256 dstLength, uint256 lenInBytes);

    address internal constant SHA256 = address(0x02);
    address internal constant MODEXP = address(0x05);
    address internal constant G1ADD = address(0x0b);
    address internal constant G1MSM = address(0x0c);
    address internal constant G2ADD = address(0x0d);
    address internal constant PAIRING_CHECK = address(0x0f);
    address internal constant MAP_FP2_TO_G2 = address(0x11);

    /// @dev Gas forwarded to each precompile: EIP-2537 prices (G1ADD 375, G1MSM of one point
    /// 12,000, G2ADD 600, MAP_FP2_TO_G2 23,800, PAIRING_CHECK 37,700 + 32,600 per pair) with room.
    uint256 private constant _G1ADD_GAS = 600;
    uint256 private constant _G1MSM_GAS = 18_000;
    uint256 private constant _G2ADD_GAS = 900;
    uint256 private constant _MAP_GAS = 36_000;
    uint256 private constant _PAIRING2_GAS = 155_000;

    /// @dev p, the base field modulus, as 16 high and 32 low bytes.
    uint256 private constant _P_HI = 0x1a0111ea397fe69a4b1ba7b6434bacd7;
    uint256 private constant _P_LO = 0x64774b84f38512bf6730d2a0f6b0f6241eabfffeb153ffffb9feffffffffaaab;
    /// @dev (p - 1) / 2, as 16 high and 32 low bytes.
    uint256 private constant _HALF_P_HI = 0x0d0088f51cbff34d258dd3db21a5d66b;
    uint256 private constant _HALF_P_LO = 0xb23ba5c279c2895fb39869507b587b120f55ffff58a9ffffdcff7fffffffd555;

    /// @dev The negated generator of G1, -g1, in the EIP-2537 encoding.
    bytes internal constant NEG_G1 =
        hex"0000000000000000000000000000000017f1d3a73197d7942695638c4fa9ac0f"
        hex"c3688c4f9774b905a14e3a3f171bac586c55e83ff97a1aeffb3af00adb22c6bb"
        hex"00000000000000000000000000000000114d1d6855d545a8aa7d76c8cf2e21f2"
        hex"67816aef1db507c96655b9d5caac42364e6f38ba0ecb751bad54dcd6b939c2ca";

    uint256 internal constant G1_LENGTH = 128;
    uint256 internal constant G2_LENGTH = 256;

    // ----------------------------------------------------------------------------------------------
    // Encodings (pure)
    // ----------------------------------------------------------------------------------------------

    /// @notice Whether `point` has the shape of a G1 point other than infinity: 128 bytes, the 16
    /// top bytes of each 64-byte word zero, not all zero. Says nothing of the curve.
    function isG1Encoding(bytes memory point) internal pure returns (bool ok) {
        if (point.length != G1_LENGTH) return false;
        assembly ("memory-safe") {
            let x0 := mload(add(point, 0x20))
            let x1 := mload(add(point, 0x40))
            let y0 := mload(add(point, 0x60))
            let y1 := mload(add(point, 0x80))
            ok := and(iszero(or(shr(128, x0), shr(128, y0))), iszero(iszero(or(or(x0, x1), or(y0, y1)))))
        }
    }

    /// @notice Whether `point` has the shape of a G2 point other than infinity: 256 bytes, the 16
    /// top bytes of each 64-byte word zero, not all zero. Says nothing of the curve.
    function isG2Encoding(bytes memory point) internal pure returns (bool ok) {
        if (point.length != G2_LENGTH) return false;
        assembly ("memory-safe") {
            let tops := 0
            let any := 0
            for { let i := 0 } lt(i, 4) { i := add(i, 1) } {
                let hi := mload(add(point, add(0x20, shl(6, i))))
                let lo := mload(add(point, add(0x40, shl(6, i))))
                tops := or(tops, shr(128, hi))
                any := or(any, or(hi, lo))
            }
            ok := and(iszero(tops), iszero(iszero(any)))
        }
    }

    /// @notice The 48-byte ZCash compressed form of the G1 point `point` (EIP-2537 encoding, which
    /// the caller has checked with `isG1Encoding`): x with the flag bits `0b100` (compressed, not
    /// infinity), and `0x20` added when y > (p - 1) / 2.
    function compressG1(bytes memory point) internal pure returns (bytes memory out) {
        assembly ("memory-safe") {
            out := mload(0x40)
            mstore(0x40, add(out, 0x60))
            mstore(out, 48)
            let xHi := mload(add(point, 0x20))
            let yHi := mload(add(point, 0x60))
            let yLo := mload(add(point, 0x80))
            let flags := 0x80
            if or(gt(yHi, _HALF_P_HI), and(eq(yHi, _HALF_P_HI), gt(yLo, _HALF_P_LO))) { flags := 0xa0 }
            mstore(add(out, 0x20), shl(128, xHi))
            mstore(add(out, 0x30), mload(add(point, 0x40)))
            mstore8(add(out, 0x20), or(shr(120, xHi), flags))
        }
    }

    // ----------------------------------------------------------------------------------------------
    // Group operations
    // ----------------------------------------------------------------------------------------------

    /// @notice `a + b` in G1. `valid` is false when the precompile refused an input (not on the
    /// curve, a coordinate not below p, a malformed encoding); the sum is then meaningless.
    function g1Add(bytes memory a, bytes memory b) internal view returns (bool valid, bytes memory sum) {
        return _call(G1ADD, bytes.concat(a, b), _G1ADD_GAS, G1_LENGTH);
    }

    /// @notice Whether `point` (a 128-byte encoding) is a point of the curve in the prime-order
    /// subgroup G1 (infinity included: refuse it with `isG1Encoding`). Checked by a one-point
    /// multi-scalar multiplication by 1, which EIP-2537 performs with a subgroup check.
    function isInG1(bytes memory point) internal view returns (bool valid) {
        if (point.length != G1_LENGTH) return false;
        (valid,) = _call(G1MSM, bytes.concat(point, bytes32(uint256(1))), _G1MSM_GAS, G1_LENGTH);
    }

    /// @notice `a + b` in G2 (the inputs must be valid points: a refusal reverts).
    function g2Add(bytes memory a, bytes memory b) internal view returns (bytes memory sum) {
        bool valid;
        (valid, sum) = _call(G2ADD, bytes.concat(a, b), _G2ADD_GAS, G2_LENGTH);
        if (!valid) revert BLS12381PrecompileFailed(G2ADD);
    }

    /// @notice `map_to_curve` of RFC 9380 for G2 with the cofactor cleared (EIP-2537
    /// MAP_FP2_TO_G2), of the Fp2 element `u` (128 bytes: c0, c1 as 64-byte words).
    function mapFp2ToG2(bytes memory u) internal view returns (bytes memory point) {
        bool valid;
        (valid, point) = _call(MAP_FP2_TO_G2, u, _MAP_GAS, G2_LENGTH);
        if (!valid) revert BLS12381PrecompileFailed(MAP_FP2_TO_G2);
    }

    /// @notice Whether `e(a1, b1) * e(a2, b2) == 1` (G1 points `a1`, `a2`, G2 points `b1`, `b2`).
    /// `valid` is false when the precompile refused an input (a point not on its curve or not in
    /// its subgroup); `holds` is the pairing check's result otherwise.
    function pairing2(bytes memory a1, bytes memory b1, bytes memory a2, bytes memory b2)
        internal
        view
        returns (bool valid, bool holds)
    {
        bytes memory output;
        (valid, output) = _call(PAIRING_CHECK, bytes.concat(a1, b1, a2, b2), _PAIRING2_GAS, 32);
        if (!valid) return (false, false);
        uint256 result = uint256(bytes32(output));
        if (result > 1) revert BLS12381PrecompileFailed(PAIRING_CHECK);
        holds = result == 1;
    }

    /// @notice BLS `CoreVerify`: whether `signature` (G2) signs `message` under `publicKey` (G1)
    /// with the domain separation tag `dst`: `e(publicKey, H(message)) == e(g1, signature)`.
    /// @dev `publicKey` must be a valid point of G1 other than infinity (checked at registration,
    /// or a sum of such points); a signature that is not a point of G2 does not verify.
    function verify(bytes memory publicKey, bytes memory message, bytes memory dst, bytes memory signature)
        internal
        view
        returns (bool)
    {
        if (!isG2Encoding(signature)) return false;
        (bool valid, bool holds) = pairing2(publicKey, hashToG2(message, dst), NEG_G1, signature);
        return valid && holds;
    }

    // ----------------------------------------------------------------------------------------------
    // Hashing to G2 (RFC 9380, BLS12381G2_XMD:SHA-256_SSWU_RO_)
    // ----------------------------------------------------------------------------------------------

    /// @notice `hash_to_curve(message)` for G2 with `dst` (RFC 9380 section 3, suite
    /// `BLS12381G2_XMD:SHA-256_SSWU_RO_`), in the EIP-2537 encoding.
    function hashToG2(bytes memory message, bytes memory dst) internal view returns (bytes memory) {
        (bytes memory u0, bytes memory u1) = hashToFieldFp2(message, dst);
        return g2Add(mapFp2ToG2(u0), mapFp2ToG2(u1));
    }

    /// @notice `hash_to_field(message, 2)` over Fp2 (RFC 9380 section 5.2, L = 64): two Fp2 elements,
    /// each 128 bytes (c0, c1 as 64-byte words), from 256 bytes of `expand_message_xmd` taken as
    /// four 64-byte integers reduced modulo p.
    function hashToFieldFp2(bytes memory message, bytes memory dst)
        internal
        view
        returns (bytes memory u0, bytes memory u1)
    {
        bytes memory uniform = expandMessageXmd(message, dst, 256);
        u0 = new bytes(128);
        u1 = new bytes(128);
        _reduce(uniform, 0, u0, 0);
        _reduce(uniform, 64, u0, 64);
        _reduce(uniform, 128, u1, 0);
        _reduce(uniform, 192, u1, 64);
    }

    /// @notice `expand_message_xmd` with SHA-256 (RFC 9380 section 5.3.1).
    function expandMessageXmd(bytes memory message, bytes memory dst, uint256 lenInBytes)
        internal
        view
        returns (bytes memory out)
    {
        uint256 ell = (lenInBytes + 31) / 32;
        if (dst.length > 255 || lenInBytes == 0 || ell > 255) {
            revert BLS12381InvalidExpandInput(dst.length, lenInBytes);
        }
        bytes memory dstPrime = bytes.concat(dst, bytes1(uint8(dst.length)));
        // msg_prime = Z_pad (64 zero bytes) || msg || I2OSP(len_in_bytes, 2) || I2OSP(0, 1) || DST_prime
        bytes32 b0 = _sha256(bytes.concat(bytes32(0), bytes32(0), message, bytes2(uint16(lenInBytes)), bytes1(0), dstPrime));
        out = new bytes(ell * 32);
        bytes32 bi = _sha256(bytes.concat(b0, bytes1(0x01), dstPrime));
        assembly ("memory-safe") {
            mstore(add(out, 0x20), bi)
        }
        for (uint256 i = 2; i <= ell; ++i) {
            bi = _sha256(bytes.concat(b0 ^ bi, bytes1(uint8(i)), dstPrime));
            assembly ("memory-safe") {
                mstore(add(out, shl(5, i)), bi)
            }
        }
        assembly ("memory-safe") {
            mstore(out, lenInBytes) // truncate to len_in_bytes (the tail stays allocated)
        }
    }

    // ----------------------------------------------------------------------------------------------
    // Precompile calls
    // ----------------------------------------------------------------------------------------------

    /// @dev The 64 bytes at `uniform[offset:]` reduced modulo p (MODEXP with exponent 1) into the 48
    /// low bytes of the 64-byte word at `dest[destOffset:]` (whose 16 top bytes stay zero).
    function _reduce(bytes memory uniform, uint256 offset, bytes memory dest, uint256 destOffset) private view {
        bool ok;
        uint256 size;
        assembly ("memory-safe") {
            let ptr := mload(0x40)
            mstore(ptr, 64) // length of the base
            mstore(add(ptr, 0x20), 1) // length of the exponent
            mstore(add(ptr, 0x40), 48) // length of the modulus
            let src := add(add(uniform, 0x20), offset)
            mstore(add(ptr, 0x60), mload(src))
            mstore(add(ptr, 0x80), mload(add(src, 0x20)))
            mstore8(add(ptr, 0xa0), 1) // the exponent
            mstore(add(ptr, 0xa1), shl(128, _P_HI))
            mstore(add(ptr, 0xb1), _P_LO)
            ok := staticcall(gas(), 0x05, ptr, 0xd1, add(add(dest, 0x30), destOffset), 48)
            size := returndatasize()
        }
        if (!ok || size != 48) revert BLS12381PrecompileFailed(MODEXP);
    }

    /// @dev SHA-256 of `data` through the 0x02 precompile.
    function _sha256(bytes memory data) private view returns (bytes32 digest) {
        bool ok;
        uint256 size;
        assembly ("memory-safe") {
            ok := staticcall(gas(), 0x02, add(data, 0x20), mload(data), 0x00, 0x20)
            size := returndatasize()
            digest := mload(0x00)
        }
        if (!ok || size != 32) revert BLS12381PrecompileFailed(SHA256);
    }

    /// @dev Call `precompile` with `input`, forwarding at most `gasCap`; `valid` is false when the
    /// precompile refused the input. Reverts when a successful call returned other than
    /// `outLength` bytes, or when a failed call may have failed for lack of gas.
    function _call(address precompile, bytes memory input, uint256 gasCap, uint256 outLength)
        private
        view
        returns (bool valid, bytes memory output)
    {
        output = new bytes(outLength);
        uint256 size;
        uint256 available = gasleft();
        assembly ("memory-safe") {
            valid := staticcall(gasCap, precompile, add(input, 0x20), mload(input), add(output, 0x20), outLength)
            size := returndatasize()
        }
        if (valid) {
            if (size != outLength) revert BLS12381PrecompileFailed(precompile);
        } else if (available - available / 64 < gasCap + 1000) {
            revert BLS12381PrecompileFailed(precompile); // may have been starved: not a verdict
        }
    }
}
