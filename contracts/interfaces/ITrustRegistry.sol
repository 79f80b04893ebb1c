// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";
import {IERC5267} from "@openzeppelin/contracts/interfaces/IERC5267.sol";
import {ITrustRegistryErrors} from "./ITrustRegistryErrors.sol";

/// @title Trust registry of the e-license federation
/// @notice Who may issue which licenses: regions (GB/T 2260 administrative division codes) and their
/// authorities, issuers (government departments) with their signing keys and key validity windows,
/// and the license types each issuer is permitted to issue.
/// @dev Every state change emits an event carrying all of the new state, so a mirror can rebuild the
/// registry from its logs without reading storage. Times are UNIX seconds; windows are half-open
/// `[validFrom, validUntil)`, and `type(uint64).max` means "open-ended".
///
/// Roles and powers:
/// - `FEDERATION_ADMIN_ROLE` adds regions and manages each region's authority accounts, and may
///   allow an issuer to be registered in a region outside the division of its credit code.
/// - An authority of a region registers the region's issuers (their credit codes' administrative
///   division must lie in the region), updates and (de)activates them,
///   manages their keys (add, rotate, retire, declare compromised) and their permitted license types.
/// - A key of an issuer that is valid now may rotate itself (end its own window now and open its
///   successor's) and retire itself: routine key management by the department, with no power over
///   the issuer's other keys. Adding keys and declaring a key compromised are reserved to the
///   region's authorities. Compromise ends the key's window at a past time, and also voids every
///   successor the key rotated itself to at or after that time (a thief's first move is to rotate
///   to a key of their own), so nothing a stolen key set up outlives the declaration.
/// - A key becomes a key of an issuer (`addKey`, `rotateKey`) only with its own acceptance: an
///   EIP-712 signature of `KeyAcceptance(issuerId, key)` by the key (ERC-1271 for a contract key),
///   so nobody can attach an address another department announced.
/// - A key may instead be added or rotated to with an SM2 public key bound to it (`addSm2Key`,
///   `rotateSm2Key`): the department then signs its licenses with SM2/SM3, and the account's window
///   (rotation, retirement, compromise) is the SM2 key's window. The account accepts the typed data
///   `Sm2KeyAcceptance(issuerId, key, sm2PublicKey, distinguishingId)`; the contract checks the SM2
///   key's encoding and curve membership and the shape of its proof of possession (it cannot check
///   SM2 signatures), and every verifier checks the proof itself before it counts the binding.
///
/// - Co-signing keys (BLS12-381, for joint anchors: docs/joint.md) follow the same windows. An
///   authority adds, rotates and declares them compromised; an authority or a signing key of the
///   issuer valid now retires one. Each is registered with a proof of possession checked on chain.
///   An authority of a region sets the co-approval policies of the region's license types.
///
/// Roles are OpenZeppelin `AccessControl` roles (`IAccessControl`; `DEFAULT_ADMIN_ROLE` grants
/// them), and the EIP-712 domain of key acceptances is published by `eip712Domain` (ERC-5267).
interface ITrustRegistry is ITrustRegistryErrors, IAccessControl, IERC5267 {
    // ----------------------------------------------------------------------------------------------
    // Types
    // ----------------------------------------------------------------------------------------------

    /// @notice A region and the data a mirror needs about it.
    struct Region {
        bool exists;
        string name;
    }

    /// @notice An issuing department.
    struct Issuer {
        bool exists;
        bool active;
        uint32 region;
        bytes32 profileHash;
        string name;
        string profileURI;
    }

    /// @notice Validity window of a signing key.
    struct KeyWindow {
        bytes32 issuerId;
        uint64 validFrom;
        uint64 validUntil;
    }

    /// @notice Permission window of an issuer for a license type.
    struct TypePermission {
        uint64 validFrom;
        uint64 validUntil;
    }

    /// @notice The SM2 key bound to an account by `addSm2Key` or `rotateSm2Key`: `publicKey` is
    /// `X || Y` (64 bytes, big-endian, each coordinate below p, a point of the SM2 curve),
    /// `distinguishingId` the key's ID (1 to 64 bytes, the `ID_A` of its `Z_A`), `proof` the SM2
    /// key's signature `r || s` (64 bytes, 1 <= r, s <= n - 1) of the EIP-712 encoded message
    /// `0x1901 || domainSeparator || hashStruct(Sm2KeyAcceptance)` (its proof of possession, checked by
    /// verifiers), and `certificate` an optional DER X.509 certificate of the key (0 to 2,048 bytes).
    struct Sm2KeyRegistration {
        bytes publicKey;
        bytes distinguishingId;
        bytes proof;
        bytes certificate;
    }

    /// @notice A BLS12-381 co-signing key (by its key id): the issuer it belongs to, its window, and
    /// whether it is closed (rotated or retired: it can be neither again). `issuerId == 0` when unknown.
    struct CoSigningKey {
        bytes32 issuerId;
        uint64 validFrom;
        uint64 validUntil;
        bool closed;
    }

    // ----------------------------------------------------------------------------------------------
    // Events
    // ----------------------------------------------------------------------------------------------

    /// @notice A region was added by a federation admin.
    event RegionAdded(uint32 indexed region, string name);
    /// @notice `account` became an authority of `region`.
    event RegionAuthorityAdded(uint32 indexed region, address indexed account);
    /// @notice `account` stopped being an authority of `region`.
    event RegionAuthorityRemoved(uint32 indexed region, address indexed account);
    /// @notice An issuer was registered by an authority of its region.
    event IssuerRegistered(
        bytes32 indexed issuerId, uint32 indexed region, string name, bytes32 profileHash, string profileURI
    );
    /// @notice An issuer's public profile was replaced.
    event IssuerProfileUpdated(bytes32 indexed issuerId, string name, bytes32 profileHash, string profileURI);
    /// @notice An issuer was activated (`active == true`) or deactivated.
    event IssuerActiveSet(bytes32 indexed issuerId, bool active);
    /// @notice A signing key was added to an issuer with the window `[validFrom, validUntil)`.
    event KeyAdded(bytes32 indexed issuerId, address indexed key, uint64 validFrom, uint64 validUntil);
    /// @notice A key's window was ended at `validUntil` in the ordinary way (retirement or rotation).
    event KeyRetired(bytes32 indexed issuerId, address indexed key, uint64 validUntil);
    /// @notice The SM2 key `publicKey` (X || Y) with ID `distinguishingId` was bound to account `key`
    /// of `issuerId` (emitted right after the account's `KeyAdded`); `proof` is its proof of
    /// possession and `certificate` its optional DER X.509 certificate (empty when none). Verifiers
    /// ignore a binding whose proof does not verify.
    event Sm2KeyBound(
        bytes32 indexed issuerId,
        address indexed key,
        bytes publicKey,
        bytes distinguishingId,
        bytes proof,
        bytes certificate
    );
    /// @notice `oldKey` was rotated to `newKey`, by `oldKey` itself (`bySelf`) or by an authority.
    event KeyRotated(bytes32 indexed issuerId, address indexed oldKey, address indexed newKey, bool bySelf);
    /// @notice A compromise walk stopped after `MAX_CASCADE` successors; `next` is the first key not
    /// reached: declare it compromised from its start to go on.
    event KeyCompromiseWalkTruncated(bytes32 indexed issuerId, address indexed next);
    /// @notice A key was declared compromised: its window now ends at `compromisedAt` (in the past).
    event KeyCompromised(bytes32 indexed issuerId, address indexed key, uint64 compromisedAt);
    /// @notice An issuer may issue `licenseType` within `[validFrom, validUntil)`.
    event LicenseTypePermitted(
        bytes32 indexed issuerId, bytes32 indexed licenseType, uint64 validFrom, uint64 validUntil
    );
    /// @notice A federation admin allowed `issuerId` to be registered in `region` although the
    /// administrative division in its credit code lies elsewhere (`region == 0`: the exception was
    /// withdrawn).
    event IssuerRegionAllowed(bytes32 indexed issuerId, uint32 indexed region);
    /// @notice A co-signing key was added to an issuer with the window `[validFrom, validUntil)`;
    /// `publicKey` is its 128-byte EIP-2537 encoding, `keyId` the keccak256 of its 48-byte compressed form.
    event CoSigningKeyAdded(
        bytes32 indexed issuerId, bytes32 indexed keyId, bytes publicKey, uint64 validFrom, uint64 validUntil
    );
    /// @notice A co-signing key's window was ended at `validUntil` in the ordinary way (retirement or rotation).
    event CoSigningKeyRetired(bytes32 indexed issuerId, bytes32 indexed keyId, uint64 validUntil);
    /// @notice Co-signing key `oldKeyId` was rotated to `newKeyId` by an authority.
    event CoSigningKeyRotated(bytes32 indexed issuerId, bytes32 indexed oldKeyId, bytes32 indexed newKeyId);
    /// @notice A co-signing key was declared compromised: its window now ends at `compromisedAt` (in the past).
    event CoSigningKeyCompromised(bytes32 indexed issuerId, bytes32 indexed keyId, uint64 compromisedAt);
    /// @notice The co-approval policy of `licenseType` in `region` is now `departments` (ascending
    /// issuer ids); an empty list ended it.
    event CoApprovalPolicySet(uint32 indexed region, bytes32 indexed licenseType, bytes32[] departments);

    // ----------------------------------------------------------------------------------------------
    // Constants
    // ----------------------------------------------------------------------------------------------

    /// @notice Role of the federation's administrators.
    function FEDERATION_ADMIN_ROLE() external view returns (bytes32);

    /// @notice The end of an open-ended window.
    function OPEN_END() external view returns (uint64);

    /// @notice Most self-rotated successors one compromise declaration voids.
    function MAX_CASCADE() external view returns (uint256);

    /// @notice EIP-712 type a key signs to accept becoming a key of an issuer.
    function KEY_ACCEPTANCE_TYPEHASH() external view returns (bytes32);

    /// @notice Most departments a co-approval policy names.
    function MAX_POLICY_DEPARTMENTS() external view returns (uint256);

    /// @notice EIP-712 type an account signs to accept becoming a key of an issuer bound to an SM2
    /// key: `Sm2KeyAcceptance(bytes32 issuerId,address key,bytes sm2PublicKey,bytes distinguishingId)`.
    function SM2_KEY_ACCEPTANCE_TYPEHASH() external view returns (bytes32);

    // ----------------------------------------------------------------------------------------------
    // Regions (federation admins)
    // ----------------------------------------------------------------------------------------------

    /// @notice Add a region identified by its six-digit GB/T 2260 code.
    function addRegion(uint32 region, string calldata name) external;

    /// @notice Make `account` an authority of `region`.
    function addRegionAuthority(uint32 region, address account) external;

    /// @notice Remove `account` from the authorities of `region`.
    function removeRegionAuthority(uint32 region, address account) external;

    /// @notice Allow `issuerId` to be registered in `region` although the administrative division of
    /// its credit code lies elsewhere (a department whose code predates a change of divisions, a
    /// federation-level body); `region == 0` withdraws the exception. Only before registration.
    function allowIssuerRegion(bytes32 issuerId, uint32 region) external;

    // ----------------------------------------------------------------------------------------------
    // Issuers (region authorities)
    // ----------------------------------------------------------------------------------------------

    /// @notice Register an issuer in `region`; it starts active. `issuerId` is the department's
    /// unified social credit code (ASCII, left-aligned, zero-padded); the administrative division in
    /// the code must lie in `region` (see `isDivisionInRegion`) unless a federation admin allowed the
    /// issuer in `region` (`allowIssuerRegion`).
    function registerIssuer(
        bytes32 issuerId,
        uint32 region,
        string calldata name,
        bytes32 profileHash,
        string calldata profileURI
    ) external;

    /// @notice Replace an issuer's public profile.
    function updateIssuerProfile(
        bytes32 issuerId,
        string calldata name,
        bytes32 profileHash,
        string calldata profileURI
    ) external;

    /// @notice Activate or deactivate an issuer. An inactive issuer cannot anchor new batches; its
    /// earlier licenses are unaffected and their status can still be changed.
    function setIssuerActive(bytes32 issuerId, bool active) external;

    // ----------------------------------------------------------------------------------------------
    // Keys (region authorities, or a key of the issuer valid now)
    // ----------------------------------------------------------------------------------------------

    /// @notice Add signing key `key` to `issuerId`, valid within `[validFrom, validUntil)` (authorities
    /// only). `acceptance` is the key's signature of `keyAcceptanceDigest(issuerId, key)`.
    function addKey(bytes32 issuerId, address key, uint64 validFrom, uint64 validUntil, bytes calldata acceptance)
        external;

    /// @notice End the window of `oldKey` after the current second and add `newKey` valid from now,
    /// open-ended. Called by an authority of the issuer's region, or by `oldKey` itself while valid.
    /// `acceptance` is the new key's signature of `keyAcceptanceDigest(issuerId, newKey)`.
    function rotateKey(bytes32 issuerId, address oldKey, address newKey, bytes calldata acceptance) external;

    /// @notice Add signing key `key` to `issuerId` as `addKey` does, bound to the SM2 key `sm2`
    /// (authorities of the issuer's region only). `acceptance` is the account's signature of
    /// `sm2KeyAcceptanceDigest(issuerId, key, sm2.publicKey, sm2.distinguishingId)`. Emits `KeyAdded`,
    /// then `Sm2KeyBound`. The binding is the account's for good (keys are never reused).
    /// @dev Checks, cheapest first: the caller; the lengths (`TrustRegistryInvalidSm2KeyLength`,
    /// `TrustRegistryInvalidSm2IdLength`, `TrustRegistryInvalidSm2ProofLength`,
    /// `TrustRegistrySm2CertificateTooLong`); both coordinates below p
    /// (`TrustRegistrySm2CoordinateOutOfRange`); the point on the curve (`TrustRegistrySm2KeyNotOnCurve`,
    /// which also refuses the all-zero key); r and s within [1, n - 1]
    /// (`TrustRegistrySm2ProofOutOfRange`); then `addKey`'s checks of the account and the window; the
    /// account's acceptance last (`TrustRegistrySm2KeyNotAccepted`). The same SM2 key may be bound to
    /// several accounts: only its holder can make a proof that verifiers accept for a given account.
    function addSm2Key(
        bytes32 issuerId,
        address key,
        Sm2KeyRegistration calldata sm2,
        uint64 validFrom,
        uint64 validUntil,
        bytes calldata acceptance
    ) external;

    /// @notice `rotateKey` to a new key bound to the SM2 key `sm2`: the same callers and rules (the
    /// old key, SM2-bound or not, valid now and not closed), `KeyRetired`, `KeyAdded`, `Sm2KeyBound`
    /// and `KeyRotated`. `acceptance` is the new account's signature of
    /// `sm2KeyAcceptanceDigest(issuerId, newKey, sm2.publicKey, sm2.distinguishingId)`. A plain
    /// `rotateKey` from an SM2-bound key is allowed too (the department leaves the SM2 suite).
    function rotateSm2Key(
        bytes32 issuerId,
        address oldKey,
        address newKey,
        Sm2KeyRegistration calldata sm2,
        bytes calldata acceptance
    ) external;

    /// @notice End the window of `key` after the current second (or make it empty when it has not
    /// started yet). Called by an authority of the issuer's region, or by `key` itself while valid.
    function retireKey(bytes32 issuerId, address key) external;

    /// @notice Declare `key` compromised since `compromisedAt`: its window ends then. Licenses anchored
    /// with the key at or after that time stop being valid; earlier ones stay valid.
    /// @dev Only an authority of the issuer's region may do this. `compromisedAt` must lie within
    /// `[validFrom, now]` and before the window's current end (a window only ever shrinks). Keys that
    /// `key` rotated itself to at or after `compromisedAt` get an empty window (a `KeyCompromised`
    /// event each, at their start), and so on down the chain of self-rotations.
    function declareKeyCompromised(bytes32 issuerId, address key, uint64 compromisedAt) external;

    // ----------------------------------------------------------------------------------------------
    // Co-signing keys (BLS12-381; region authorities, or a signing key of the issuer valid now to retire)
    // ----------------------------------------------------------------------------------------------

    /// @notice Add the BLS12-381 co-signing key `publicKey` (128-byte EIP-2537 G1 encoding) to
    /// `issuerId`, valid within `[validFrom, validUntil)` (authorities of the issuer's region only).
    /// `proof` is its proof of possession (256-byte G2 encoding): the key's signature of its 48-byte
    /// compressed form with the DST `BLS_POP_BLS12381G2_XMD:SHA-256_SSWU_RO_POP_`, checked here by a
    /// pairing, so nobody registers a key made from another department's (`pk_x - pk_victim`).
    /// @dev Refuses the point at infinity and any point not in G1 (`TrustRegistryInvalidCoSigningKey`),
    /// a key id used before (`TrustRegistryCoSigningKeyInUse`), and a proof that does not verify
    /// (`TrustRegistryInvalidProofOfPossession`). Needs the EIP-2537 precompiles (Prague).
    function addCoSigningKey(
        bytes32 issuerId,
        bytes calldata publicKey,
        bytes calldata proof,
        uint64 validFrom,
        uint64 validUntil
    ) external;

    /// @notice End the window of co-signing key `oldKeyId` after the current second and add
    /// `newPublicKey` (with its proof of possession `newProof`) valid from now, open-ended.
    /// Authorities of the issuer's region only: a thief holding a department's signing key cannot
    /// install a co-signing key of their own. The old key must be valid now and not closed.
    function rotateCoSigningKey(bytes32 issuerId, bytes32 oldKeyId, bytes calldata newPublicKey, bytes calldata newProof)
        external;

    /// @notice End the window of co-signing key `keyId` after the current second (or make it empty
    /// when it has not started yet). Called by an authority of the issuer's region, or by a signing
    /// key of the issuer valid now.
    function retireCoSigningKey(bytes32 issuerId, bytes32 keyId) external;

    /// @notice Declare co-signing key `keyId` compromised since `compromisedAt`: its window ends then,
    /// and joint anchors co-signed with it at or after that time stop counting.
    /// @dev Authorities of the issuer's region only. `compromisedAt` must lie within `[validFrom, now]`
    /// and before the window's current end (a window only ever shrinks).
    function declareCoSigningKeyCompromised(bytes32 issuerId, bytes32 keyId, uint64 compromisedAt) external;

    // ----------------------------------------------------------------------------------------------
    // Co-approval policies (region authorities)
    // ----------------------------------------------------------------------------------------------

    /// @notice Require the co-signatures of `departments` (registered issuers, ascending, 1 to
    /// `MAX_POLICY_DEPARTMENTS`) on the joint anchors of the licenses of `licenseType` issued by the
    /// issuers of `region`; an empty list ends the policy. Authorities of `region` only.
    function setCoApprovalPolicy(uint32 region, bytes32 licenseType, bytes32[] calldata departments) external;

    // ----------------------------------------------------------------------------------------------
    // License types (region authorities)
    // ----------------------------------------------------------------------------------------------

    /// @notice Permit `issuerId` to issue `licenseType` within `[validFrom, validUntil)`, replacing any
    /// earlier window. To end a permission, set `validUntil` to now (with `validFrom` before it).
    function permitLicenseType(bytes32 issuerId, bytes32 licenseType, uint64 validFrom, uint64 validUntil)
        external;

    // ----------------------------------------------------------------------------------------------
    // Views
    // ----------------------------------------------------------------------------------------------

    /// @notice Whether `key` belongs to `issuerId` and its window contains time `at`.
    function isKeyValid(bytes32 issuerId, address key, uint64 at) external view returns (bool);

    /// @notice Whether `issuerId` is permitted to issue `licenseType` at time `at`.
    function mayIssue(bytes32 issuerId, bytes32 licenseType, uint64 at) external view returns (bool);

    /// @notice Whether `account` is an authority of the region of `issuerId`.
    function isAuthorityOfIssuer(bytes32 issuerId, address account) external view returns (bool);

    /// @notice The issuer a key belongs to and its window (zero issuer id when the key is unknown).
    function getKey(address key) external view returns (KeyWindow memory);

    /// @notice Whether the issuer exists, whether it is active, and its region (cheap; no strings).
    function getIssuerState(bytes32 issuerId) external view returns (bool exists, bool active, uint32 region);

    /// @notice The key `key` was rotated to (zero when never rotated), whether it rotated itself, and
    /// whether it is closed (rotated or retired: it can be neither again).
    function getRotation(address key) external view returns (address successor, bool bySelf, bool closed);

    /// @notice Details of an issuer (`exists == false` when unknown).
    function getIssuer(bytes32 issuerId) external view returns (Issuer memory);

    /// @notice Details of a region (`exists == false` when unknown).
    function getRegion(uint32 region) external view returns (Region memory);

    /// @notice Whether `account` is an authority of `region`.
    function isRegionAuthority(uint32 region, address account) external view returns (bool);

    /// @notice The permission window of `issuerId` for `licenseType` (zero window when never permitted).
    function getTypePermission(bytes32 issuerId, bytes32 licenseType) external view returns (TypePermission memory);

    /// @notice The region a federation admin allowed `issuerId` to be registered in outside the
    /// division of its credit code (zero when none).
    function getAllowedRegion(bytes32 issuerId) external view returns (uint32);

    /// @notice The administrative division (GB/T 2260, characters 3 to 8) of the credit code in
    /// `issuerId`; reverts with `TrustRegistryInvalidIssuerId` unless the id is a well-formed code.
    function issuerDivision(bytes32 issuerId) external pure returns (uint32);

    /// @notice Whether an issuer whose credit code holds `division` belongs in `region`: the same
    /// province (a region ending in 0000), the same prefecture-level city (ending in 00), or else the
    /// same code.
    function isDivisionInRegion(uint32 division, uint32 region) external pure returns (bool);

    /// @notice The co-signing key with id `keyId` (`issuerId == 0` when unknown).
    function getCoSigningKey(bytes32 keyId) external view returns (CoSigningKey memory);

    /// @notice Whether co-signing key `keyId` belongs to `issuerId` and its window contains time `at`.
    function isCoSigningKeyValid(bytes32 issuerId, bytes32 keyId, uint64 at) external view returns (bool);

    /// @notice The key id of a co-signing key: keccak256 of the 48-byte compressed form of
    /// `publicKey` (128-byte EIP-2537 G1 encoding); reverts with `TrustRegistryInvalidCoSigningKey`
    /// unless `publicKey` has that shape and is not infinity (the curve is not checked here).
    function coSigningKeyId(bytes calldata publicKey) external pure returns (bytes32);

    /// @notice The departments whose co-signatures the co-approval policy of `licenseType` in `region`
    /// requires (ascending; empty when no policy is in force).
    function getCoApprovalPolicy(uint32 region, bytes32 licenseType) external view returns (bytes32[] memory);

    /// @notice The EIP-712 digest `key` signs to accept becoming a key of `issuerId`
    /// (`KeyAcceptance(bytes32 issuerId,address key)` under this contract's domain).
    function keyAcceptanceDigest(bytes32 issuerId, address key) external view returns (bytes32);

    /// @notice The EIP-712 digest account `key` signs to accept becoming a key of `issuerId` bound to
    /// the SM2 key `publicKey` with ID `distinguishingId`
    /// (`Sm2KeyAcceptance(bytes32 issuerId,address key,bytes sm2PublicKey,bytes distinguishingId)`
    /// under this contract's domain; the `bytes` members are hashed with keccak256, as EIP-712 says).
    /// Nothing is checked here.
    function sm2KeyAcceptanceDigest(
        bytes32 issuerId,
        address key,
        bytes calldata publicKey,
        bytes calldata distinguishingId
    ) external view returns (bytes32);

    /// @notice The SM2 key bound to account `key`: keccak256(publicKey || distinguishingId) of its
    /// registration (publicKey is always 64 bytes), zero when the account has no SM2 binding. The
    /// key's window is the account's (`getKey`).
    function getSm2Key(address key) external view returns (bytes32 keyHash);
}
