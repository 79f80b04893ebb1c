// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

/// @title License registry of the e-license federation
/// @notice Batch anchors of license digests and the status of each license.
/// @dev A batch is anchored by one of its issuer's signing keys, valid at the block's time, as the
/// root of a sorted-pair keccak Merkle tree (OpenZeppelin `MerkleProof` compatible) over the leaves
/// `keccak256(digest)` of its digests, given in strictly ascending order. The contract
/// recomputes the root from the digests and publishes the digests in `BatchAnchored`, so any
/// verifier that reads the logs can index every anchored license. Status is kept per
/// `(issuerId, digest)`; only a key of the issuer valid now or an authority of the issuer's region
/// may change it. Anchors are kept per `(issuerId, root)`: an anchor counts only for the issuer whose
/// key made it, so another issuer anchoring the same root (or the same digests) first neither
/// blocks the issuer's own anchor nor stands in for it.
interface ILicenseRegistry {
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

    /// @notice Status changes made by a key outside its (since shortened) window were voided by a
    /// region authority: the licenses are active again.
    event StatusChangesVoided(bytes32 indexed issuerId, address indexed actor, bytes32[] digests);

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
    error LicenseRegistryStatusFinal(bytes32 digest, Status status);
    /// @notice The change is not allowed from the license's current status.
    error LicenseRegistryInvalidTransition(bytes32 digest, Status from, Status to);
    /// @notice `digests` and `replacements` differ in length.
    error LicenseRegistryLengthMismatch(uint256 digests, uint256 replacements);
    /// @notice A replacement is zero or equal to the digest it replaces.
    error LicenseRegistryInvalidReplacement(bytes32 digest, bytes32 replacement);

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

    /// @notice What the chain says of a presented license (see `checkLicense`).
    struct LicenseCheck {
        bool anchored;
        address signer;
        bytes32 issuerId;
        bool keyValidAtAnchor;
        uint40 anchoredAt;
        Status status;
    }

    /// @notice Only a status set by a key outside its validity window (a key declared compromised
    /// before it made the change) can be voided.
    error LicenseRegistryStatusNotVoidable(bytes32 digest);
    /// @notice Only an authority of the issuer's region may void status changes.
    error LicenseRegistryNotAuthority(bytes32 issuerId, address account);

    /// @notice Field commitments passed to `licenseDigest` must be strictly ascending.
    error LicenseRegistryCommitmentsNotAscending(uint256 index);

    /// @notice The anchor of `root` by `issuerId` (`key == 0` when that issuer did not anchor it;
    /// an anchor of the same root by another issuer is not returned).
    function getAnchor(bytes32 issuerId, bytes32 root) external view returns (Anchor memory);

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
