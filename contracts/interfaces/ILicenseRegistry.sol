// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {IERC5267} from "@openzeppelin/contracts/interfaces/IERC5267.sol";
import {ILicenseRegistryErrors} from "./ILicenseRegistryErrors.sol";
import {ITrustRegistry} from "./ITrustRegistry.sol";

/// @title License registry of the e-license federation
/// @notice Batch anchors of license digests, joint anchors of bundles co-signed by several
/// departments (BLS12-381 aggregate signatures, docs/joint.md), and the status of each license.
/// @dev A batch is anchored by one of its issuer's signing keys, valid at the block's time, as the
/// root of a sorted-pair keccak Merkle tree (OpenZeppelin `MerkleProof` compatible) over the leaves
/// `keccak256(digest)` of its digests, given in strictly ascending order. The contract
/// recomputes the root from the digests and publishes the digests in `BatchAnchored`, so any
/// verifier that reads the logs can index every anchored license. Status is kept per
/// `(issuerId, digest)`; only a key of the issuer valid now or an authority of the issuer's region
/// may change it. Anchors are kept per `(issuerId, root)`: an anchor counts only for the issuer whose
/// key made it, so another issuer anchoring the same root (or the same digests) first neither
/// blocks the issuer's own anchor nor stands in for it.
///
/// Status transitions: Active -> Suspended | Revoked | Superseded; Suspended -> Active
/// (reinstate) | Revoked | Superseded. Revoked and Superseded are final.
///
/// Licenses are signed under this contract's EIP-712 domain, published by `eip712Domain` (ERC-5267).
interface ILicenseRegistry is ILicenseRegistryErrors, IERC5267 {
    // ----------------------------------------------------------------------------------------------
    // Types
    // ----------------------------------------------------------------------------------------------

    /// @notice Status of a license. `Active` is the default of every digest.
    enum Status {
        Active,
        Suspended,
        Revoked,
        Superseded
    }

    /// @notice Record of a batch anchored by an issuer (`key == 0` when that issuer never anchored it).
    struct Anchor {
        address key;
        uint40 timestamp;
        uint40 blockNumber;
        uint16 count;
    }

    /// @notice Status of one license: who set it and when (`setBy == 0` for a license never changed).
    struct LicenseStatus {
        Status status;
        uint16 reason;
        address setBy;
        uint40 setAt;
        bytes32 replacement;
    }

    /// @notice The always-disclosed header of a license (see `registry/document.py`). Days are
    /// counted from 1970-01-01; `validTo` is the last valid day, `type(uint32).max` when open-ended.
    struct LicenseHeader {
        uint16 formatVersion;
        bytes32 licenseType;
        string licenseId;
        bytes32 issuerId;
        uint32 validFrom;
        uint32 validTo;
    }

    /// @notice A joint bundle (docs/joint.md): the application id (keccak256 of its text), the
    /// applicant's commitment, the members (license digest, license type, issuer; ascending by
    /// digest, as three lists of equal length) and the departments co-signing it (issuer ids,
    /// ascending).
    struct JointBundle {
        bytes32 applicationId;
        bytes32 applicant;
        bytes32[] digests;
        bytes32[] licenseTypes;
        bytes32[] issuerIds;
        bytes32[] departments;
    }

    /// @notice Record of a joint anchor (`submitter == 0` when the bundle was never anchored).
    struct JointAnchor {
        address submitter;
        uint40 timestamp;
        uint40 blockNumber;
    }

    /// @notice What the chain says of a presented license (see `checkLicense`).
    struct LicenseCheck {
        bool anchored;
        address signer;
        bytes32 issuerId;
        bool keyValidAtAnchor;
        uint40 anchoredAt;
        Status status;
    }

    // ----------------------------------------------------------------------------------------------
    // Events
    // ----------------------------------------------------------------------------------------------

    /// @notice A batch was anchored. `digests` are the batch's license digests in ascending order.
    event BatchAnchored(bytes32 indexed root, bytes32 indexed issuerId, address indexed key, bytes32[] digests);
    /// @notice Licenses were suspended by `actor` with a reason code.
    event LicensesSuspended(bytes32 indexed issuerId, address indexed actor, uint16 reason, bytes32[] digests);
    /// @notice Suspended licenses were made active again by `actor`.
    event LicensesReinstated(bytes32 indexed issuerId, address indexed actor, uint16 reason, bytes32[] digests);
    /// @notice Licenses were revoked (final) by `actor`.
    event LicensesRevoked(bytes32 indexed issuerId, address indexed actor, uint16 reason, bytes32[] digests);
    /// @notice Licenses were superseded (final) by `actor`; `replacements[i]` replaces `digests[i]`.
    event LicensesSuperseded(
        bytes32 indexed issuerId, address indexed actor, uint16 reason, bytes32[] digests, bytes32[] replacements
    );
    /// @notice A joint bundle was anchored, co-signed by every department of `departments` with the
    /// co-signing keys `keyIds` (in the departments' order); the bundle's fields in full.
    event JointAnchored(
        bytes32 indexed bundleDigest,
        bytes32 indexed applicationId,
        address indexed submitter,
        bytes32 applicant,
        bytes32[] digests,
        bytes32[] licenseTypes,
        bytes32[] issuerIds,
        bytes32[] departments,
        bytes32[] keyIds
    );
    /// @notice Status changes made by a key outside its (since shortened) window were voided by a
    /// region authority: the licenses are active again.
    event StatusChangesVoided(bytes32 indexed issuerId, address indexed actor, bytes32[] digests);

    // ----------------------------------------------------------------------------------------------
    // Constants and links
    // ----------------------------------------------------------------------------------------------

    /// @notice Most digests accepted in one call.
    function MAX_BATCH_SIZE() external view returns (uint256);

    /// @notice EIP-712 type of a license (its struct hash is the license digest).
    function LICENSE_TYPEHASH() external view returns (bytes32);

    /// @notice EIP-712 type of a joint bundle's member.
    function JOINT_MEMBER_TYPEHASH() external view returns (bytes32);

    /// @notice EIP-712 type of a joint bundle.
    function JOINT_BUNDLE_TYPEHASH() external view returns (bytes32);

    /// @notice Most members of a joint bundle.
    function MAX_JOINT_MEMBERS() external view returns (uint256);

    /// @notice Most departments co-signing a joint bundle.
    function MAX_JOINT_DEPARTMENTS() external view returns (uint256);

    /// @notice The trust registry deciding which keys and authorities may act for which issuer.
    function trustRegistry() external view returns (ITrustRegistry);

    // ----------------------------------------------------------------------------------------------
    // Anchoring (issuer keys)
    // ----------------------------------------------------------------------------------------------

    /// @notice Anchor a batch: `root` must be the Merkle root of `digests` (strictly ascending,
    /// non-zero). The sender must be a signing key of an active issuer, valid at this block's time;
    /// the anchor is recorded for that issuer, which may anchor each root once.
    /// @return issuerId the issuer the batch was anchored for.
    function anchor(bytes32 root, bytes32[] calldata digests) external returns (bytes32 issuerId);

    // ----------------------------------------------------------------------------------------------
    // Joint anchors (a signing key of a co-signing department)
    // ----------------------------------------------------------------------------------------------

    /// @notice Anchor a joint bundle co-signed by its departments: `publicKeys` holds their co-signing
    /// keys (128-byte EIP-2537 G1 encodings, in the departments' order), `signature` the aggregate
    /// (256-byte G2 encoding) of their BLS signatures of the bundle digest (DST
    /// `BLS_SIG_BLS12381G2_XMD:SHA-256_SSWU_RO_POP_`). The sender must be a signing key, valid now, of
    /// one of the departments. Every department must be active with the given key as its co-signing
    /// key valid now; every member's issuer must be a department permitted to issue the member's
    /// type now; every department a co-approval policy in force names for a member (the policy of
    /// its type in its issuer's region) must co-sign. Checks run cheapest first, the pairing last.
    /// Each bundle is anchored once.
    /// @return bundleDigest the EIP-712 digest of the bundle under this contract's domain.
    function anchorJoint(JointBundle calldata bundle, bytes calldata publicKeys, bytes calldata signature)
        external
        returns (bytes32 bundleDigest);

    // ----------------------------------------------------------------------------------------------
    // Status (a key of the issuer valid now, or an authority of its region)
    // ----------------------------------------------------------------------------------------------

    /// @notice Suspend active licenses (reversible).
    function suspend(bytes32 issuerId, bytes32[] calldata digests, uint16 reason) external;

    /// @notice Make suspended licenses active again.
    function reinstate(bytes32 issuerId, bytes32[] calldata digests, uint16 reason) external;

    /// @notice Revoke active or suspended licenses (final).
    function revoke(bytes32 issuerId, bytes32[] calldata digests, uint16 reason) external;

    /// @notice Supersede active or suspended licenses by new versions (final).
    function supersede(bytes32 issuerId, bytes32[] calldata digests, bytes32[] calldata replacements, uint16 reason)
        external;

    /// @notice Make licenses active again whose current status was set by a key that was not valid
    /// when it set it (a key since declared compromised from an earlier time): the only way a final
    /// status changes. Only an authority of the issuer's region may do this.
    function voidStatusChanges(bytes32 issuerId, bytes32[] calldata digests) external;

    // ----------------------------------------------------------------------------------------------
    // Views
    // ----------------------------------------------------------------------------------------------

    /// @notice The anchor of `root` by `issuerId` (`key == 0` when that issuer did not anchor it;
    /// an anchor of the same root by another issuer is not returned).
    function getAnchor(bytes32 issuerId, bytes32 root) external view returns (Anchor memory);

    /// @notice The joint anchor of `bundleDigest` (`submitter == 0` when never anchored).
    function getJointAnchor(bytes32 bundleDigest) external view returns (JointAnchor memory);

    /// @notice The EIP-712 digest of `bundle` under this contract's domain (docs/joint.md), after the
    /// same shape checks as `anchorJoint` (`LicenseRegistryInvalidBundle`).
    function jointBundleDigest(JointBundle calldata bundle) external view returns (bytes32);

    /// @notice The status of license `digest` of `issuerId`.
    function getStatus(bytes32 issuerId, bytes32 digest) external view returns (LicenseStatus memory);

    /// @notice The license digest: the EIP-712 struct hash of the header and the sorted commitments.
    function licenseDigest(LicenseHeader calldata header, bytes32[] calldata fieldCommitments)
        external
        pure
        returns (bytes32);

    /// @notice The address whose EIP-2098 signature `(r, vs)` signs `digest` under this contract's
    /// EIP-712 domain (reverts on an invalid signature).
    function licenseSigner(bytes32 digest, bytes32 r, bytes32 vs) external view returns (address);

    /// @notice Whether `proof` shows `digest` in the batch with Merkle root `root`.
    function isInBatch(bytes32 root, bytes32[] calldata proof, bytes32 digest) external pure returns (bool);

    /// @notice Everything the chain says of a presented license of `issuerId` (the issuer named in
    /// the license's header): the batch `root` was anchored by that issuer and holds `digest` (by
    /// `proof`), who signed the digest, whether that key anchored the batch inside its window, and
    /// the license's status. A contract accepting a license computes `digest` with `licenseDigest`
    /// from the header it relies on, requires `anchored`, `keyValidAtAnchor` and `status == Active`,
    /// and checks the validity window (and the type permission, in the trust registry) itself.
    function checkLicense(
        bytes32 issuerId,
        bytes32 digest,
        bytes32 r,
        bytes32 vs,
        bytes32 root,
        bytes32[] calldata proof
    ) external view returns (LicenseCheck memory);
}
