// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {ILicenseRegistry} from "./ILicenseRegistry.sol";

/// @title Errors of the license registry
/// @notice The custom errors `LicenseRegistry` reverts with (besides OpenZeppelin's `ECDSA` errors
/// of `licenseSigner` and `checkLicense` on an invalid signature).
interface ILicenseRegistryErrors {
    /// @notice The zero root was given.
    error LicenseRegistryZeroRoot();
    /// @notice An empty list of digests was given.
    error LicenseRegistryEmptyBatch();
    /// @notice More digests than `MAX_BATCH_SIZE` were given.
    error LicenseRegistryBatchTooLarge(uint256 count, uint256 maximum);
    /// @notice The issuer anchored this root before.
    error LicenseRegistryBatchExists(bytes32 issuerId, bytes32 root);
    /// @notice Digests must be non-zero and strictly ascending; `index` is the first offending one.
    error LicenseRegistryDigestsNotAscending(uint256 index);
    /// @notice The given root is not the root of the given digests.
    error LicenseRegistryRootMismatch(bytes32 given, bytes32 computed);
    /// @notice The sender is not a signing key of any issuer.
    error LicenseRegistryUnknownKey(address key);
    /// @notice The key is not valid at time `at`.
    error LicenseRegistryKeyNotValid(bytes32 issuerId, address key, uint64 at);
    /// @notice The issuer is inactive and cannot anchor.
    error LicenseRegistryIssuerInactive(bytes32 issuerId);
    /// @notice No such issuer.
    error LicenseRegistryUnknownIssuer(bytes32 issuerId);
    /// @notice The caller is neither a key of the issuer valid now nor an authority of its region.
    error LicenseRegistryNotIssuerOrAuthority(bytes32 issuerId, address account);
    /// @notice A zero digest was given.
    error LicenseRegistryZeroDigest(uint256 index);
    /// @notice The license is revoked or superseded; its status can never change again.
    error LicenseRegistryStatusFinal(bytes32 digest, ILicenseRegistry.Status status);
    /// @notice The change is not allowed from the license's current status.
    error LicenseRegistryInvalidTransition(bytes32 digest, ILicenseRegistry.Status from, ILicenseRegistry.Status to);
    /// @notice `digests` and `replacements` differ in length.
    error LicenseRegistryLengthMismatch(uint256 digests, uint256 replacements);
    /// @notice A replacement is zero or equal to the digest it replaces.
    error LicenseRegistryInvalidReplacement(bytes32 digest, bytes32 replacement);
    /// @notice Only a status set by a key outside its validity window (a key declared compromised
    /// before it made the change) can be voided.
    error LicenseRegistryStatusNotVoidable(bytes32 digest);
    /// @notice Only an authority of the issuer's region may void status changes.
    error LicenseRegistryNotAuthority(bytes32 issuerId, address account);
    /// @notice Field commitments passed to `licenseDigest` must be strictly ascending.
    error LicenseRegistryCommitmentsNotAscending(uint256 index);
    /// @notice The joint bundle is malformed: `reason` says how (members or departments empty, too
    /// many, not strictly ascending, member lists of different lengths, a zero application id or
    /// applicant, public keys not 128 bytes per department).
    error LicenseRegistryInvalidBundle(string reason);
    /// @notice A member's issuer is not among the bundle's departments (the co-signers).
    error LicenseRegistryMemberIssuerNotCoSigner(bytes32 digest, bytes32 issuerId);
    /// @notice The sender is not a signing key, valid now, of one of the bundle's departments.
    error LicenseRegistryNotParticipant(address sender);
    /// @notice The public key given for department `issuerId` is not its co-signing key valid at `at`
    /// (unknown, another issuer's, outside its window, or not the registered point).
    error LicenseRegistryCoSigningKeyNotValid(bytes32 issuerId, bytes32 keyId, uint64 at);
    /// @notice A member's issuer is not permitted to issue the member's license type now.
    error LicenseRegistryTypeNotPermitted(bytes32 issuerId, bytes32 licenseType);
    /// @notice The co-approval policy in force for the member's license type (in its issuer's region)
    /// names department `issuerId`, which is not among the bundle's co-signers.
    error LicenseRegistryCoApprovalMissing(bytes32 digest, bytes32 licenseType, bytes32 issuerId);
    /// @notice The aggregate signature is not the departments' co-signature of the bundle digest (a
    /// 256-byte point of G2 verifying under the sum of their co-signing keys).
    error LicenseRegistryInvalidAggregateSignature(bytes32 bundleDigest);
    /// @notice The bundle was anchored already.
    error LicenseRegistryJointExists(bytes32 bundleDigest);
}
