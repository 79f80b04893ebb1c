// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

/// @title Errors of the trust registry
/// @notice The custom errors `TrustRegistry` reverts with (besides OpenZeppelin's `AccessControl`
/// errors for the federation admins' functions).
interface ITrustRegistryErrors {
    /// @notice The region code is not a six-digit GB/T 2260 code.
    error TrustRegistryInvalidRegionCode(uint32 region);
    /// @notice The region already exists.
    error TrustRegistryRegionExists(uint32 region);
    /// @notice No such region.
    error TrustRegistryUnknownRegion(uint32 region);
    /// @notice The account is already an authority of the region.
    error TrustRegistryAuthorityExists(uint32 region, address account);
    /// @notice The account is not an authority of the region.
    error TrustRegistryNotRegionAuthority(uint32 region, address account);
    /// @notice The zero address cannot be an authority or a key.
    error TrustRegistryZeroAddress();
    /// @notice The zero id cannot name an issuer; the zero type cannot name a license type.
    error TrustRegistryZeroId();
    /// @notice An issuer with this id already exists.
    error TrustRegistryIssuerExists(bytes32 issuerId);
    /// @notice No such issuer.
    error TrustRegistryUnknownIssuer(bytes32 issuerId);
    /// @notice The key already belongs to an issuer (keys are never reused).
    error TrustRegistryKeyInUse(address key, bytes32 issuerId);
    /// @notice The key does not belong to the issuer.
    error TrustRegistryUnknownKey(bytes32 issuerId, address key);
    /// @notice The window is empty (`validFrom >= validUntil`).
    error TrustRegistryInvalidWindow(uint64 validFrom, uint64 validUntil);
    /// @notice The caller is neither the key concerned (valid now) nor an authority of the issuer's region.
    error TrustRegistryNotIssuerOrAuthority(bytes32 issuerId, address account);
    /// @notice The key's window does not contain `at` (it ended or has not started), so it cannot act.
    error TrustRegistryKeyNotValid(bytes32 issuerId, address key, uint64 at);
    /// @notice The key was rotated or retired already; it can be neither again (if it is being
    /// misused in the meantime, declare it compromised).
    error TrustRegistryKeyClosed(bytes32 issuerId, address key);
    /// @notice An authority of the issuer's region cannot also be one of the issuer's keys (neither
    /// by adding the key nor by making the key an authority).
    error TrustRegistryKeyIsAuthority(bytes32 issuerId, address key);
    /// @notice The issuer id is not a unified social credit code (GB 32100: 18 characters of
    /// `0-9 A-H J-N P-R T-U W-Y`, a six-digit division code in characters 3 to 8, a valid check
    /// character) in ASCII, left-aligned and zero-padded to 32 bytes.
    error TrustRegistryInvalidIssuerId(bytes32 issuerId);
    /// @notice The administrative division in the issuer's credit code (`division`) does not lie in
    /// `region`, and no federation admin allowed the issuer in that region.
    error TrustRegistryIssuerOutsideRegion(bytes32 issuerId, uint32 division, uint32 region);
    /// @notice `acceptance` is not a signature by `key` of `KeyAcceptance(issuerId, key)` under this
    /// contract's EIP-712 domain (missing, signed by another account, or for another issuer).
    error TrustRegistryKeyNotAccepted(bytes32 issuerId, address key);
    /// @notice A compromise time must lie within `[validFrom, now]` and before the window's current end.
    error TrustRegistryCompromiseTimeOutOfRange(address key, uint64 compromisedAt, uint64 validFrom, uint64 validUntil);
    /// @notice A co-signing key must be a 128-byte EIP-2537 G1 encoding (16 zero bytes before each
    /// 48-byte coordinate) of a point in the subgroup G1 other than infinity.
    error TrustRegistryInvalidCoSigningKey(bytes publicKey);
    /// @notice The proof of possession is not the key's signature of its compressed form under the
    /// DST `BLS_POP_BLS12381G2_XMD:SHA-256_SSWU_RO_POP_` (a 256-byte point of G2).
    error TrustRegistryInvalidProofOfPossession(bytes32 keyId);
    /// @notice The co-signing key was registered before, by `issuerId` (key ids are never reused).
    error TrustRegistryCoSigningKeyInUse(bytes32 keyId, bytes32 issuerId);
    /// @notice The co-signing key does not belong to the issuer.
    error TrustRegistryUnknownCoSigningKey(bytes32 issuerId, bytes32 keyId);
    /// @notice The co-signing key's window does not contain `at`, so it cannot be rotated or retired.
    error TrustRegistryCoSigningKeyNotValid(bytes32 issuerId, bytes32 keyId, uint64 at);
    /// @notice The co-signing key was rotated or retired already.
    error TrustRegistryCoSigningKeyClosed(bytes32 issuerId, bytes32 keyId);
    /// @notice A co-signing key's compromise time must lie within `[validFrom, now]` and before the
    /// window's current end.
    error TrustRegistryCoSigningKeyCompromiseTimeOutOfRange(
        bytes32 keyId, uint64 compromisedAt, uint64 validFrom, uint64 validUntil
    );
    /// @notice A co-approval policy names at most `maximum` departments.
    error TrustRegistryTooManyDepartments(uint256 count, uint256 maximum);
    /// @notice A co-approval policy's departments must be strictly ascending (hence non-zero and
    /// unique); `index` is the first offending one.
    error TrustRegistryDepartmentsNotAscending(uint256 index);
    /// @notice An SM2 public key is 64 bytes (`X || Y`), not `length`.
    error TrustRegistryInvalidSm2KeyLength(uint256 length);
    /// @notice An SM2 distinguishing identifier is 1 to 64 bytes, not `length`.
    error TrustRegistryInvalidSm2IdLength(uint256 length);
    /// @notice An SM2 proof of possession is 64 bytes (`r || s`), not `length`.
    error TrustRegistryInvalidSm2ProofLength(uint256 length);
    /// @notice An SM2 key's certificate is at most `maximum` bytes (DER), not `length`.
    error TrustRegistrySm2CertificateTooLong(uint256 length, uint256 maximum);
    /// @notice A coordinate of the SM2 public key is not below the field prime p.
    error TrustRegistrySm2CoordinateOutOfRange(uint256 x, uint256 y);
    /// @notice The SM2 public key `(x, y)` is not a point of the SM2 curve
    /// (`y^2 = x^3 + a x + b mod p`); this includes the all-zero encoding.
    error TrustRegistrySm2KeyNotOnCurve(uint256 x, uint256 y);
    /// @notice The SM2 proof's `r` or `s` is outside [1, n - 1] (n the curve order).
    error TrustRegistrySm2ProofOutOfRange(uint256 r, uint256 s);
    /// @notice `acceptance` is not a signature by `key` of `Sm2KeyAcceptance(issuerId, key,
    /// sm2PublicKey, distinguishingId)` for the SM2 key `keyHash` (keccak256(publicKey || ID)) under
    /// this contract's EIP-712 domain (missing, signed by another account, over another SM2 key or ID,
    /// or for another issuer).
    error TrustRegistrySm2KeyNotAccepted(bytes32 issuerId, address key, bytes32 keyHash);
}
