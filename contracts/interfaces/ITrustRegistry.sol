// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

/// @title Trust registry of the e-license federation
/// @notice Who may issue which licenses: regions (GB/T 2260 administrative division codes) and their
/// authorities, issuers (government departments) with their signing keys and key validity windows,
/// and the license types each issuer is permitted to issue.
/// @dev Every state change emits an event carrying all of the new state, so a mirror can rebuild the
/// registry from its logs without reading storage. Times are UNIX seconds; windows are half-open
/// `[validFrom, validUntil)`, and `type(uint64).max` means "open-ended".
interface ITrustRegistry {
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

    // ----------------------------------------------------------------------------------------------
    // Errors
    // ----------------------------------------------------------------------------------------------

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

    // ----------------------------------------------------------------------------------------------
    // Views used by the license registry and by verifiers
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

    /// @notice The EIP-712 digest `key` signs to accept becoming a key of `issuerId`
    /// (`KeyAcceptance(bytes32 issuerId,address key)` under this contract's domain).
    function keyAcceptanceDigest(bytes32 issuerId, address key) external view returns (bytes32);
}
