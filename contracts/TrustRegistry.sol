// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {SignatureChecker} from "@openzeppelin/contracts/utils/cryptography/SignatureChecker.sol";
import {ITrustRegistry} from "./interfaces/ITrustRegistry.sol";
import {BLS12381} from "./libraries/BLS12381.sol";

/// @title TrustRegistry
/// @notice Regions, their authorities, issuers, issuer signing keys and BLS12-381 co-signing keys
/// with validity windows, the license types each issuer may issue, and co-approval policies.
/// @dev Roles, powers and the behaviour of every function are documented in `ITrustRegistry`.
contract TrustRegistry is ITrustRegistry, AccessControl, EIP712 {
    /// @inheritdoc ITrustRegistry
    bytes32 public constant FEDERATION_ADMIN_ROLE = keccak256("FEDERATION_ADMIN_ROLE");

    /// @inheritdoc ITrustRegistry
    uint64 public constant OPEN_END = type(uint64).max;

    /// @inheritdoc ITrustRegistry
    uint256 public constant MAX_CASCADE = 64;

    /// @inheritdoc ITrustRegistry
    bytes32 public constant KEY_ACCEPTANCE_TYPEHASH = keccak256("KeyAcceptance(bytes32 issuerId,address key)");

    /// @inheritdoc ITrustRegistry
    uint256 public constant MAX_POLICY_DEPARTMENTS = 16;

    /// @inheritdoc ITrustRegistry
    bytes32 public constant SM2_KEY_ACCEPTANCE_TYPEHASH =
        keccak256("Sm2KeyAcceptance(bytes32 issuerId,address key,bytes sm2PublicKey,bytes distinguishingId)");

    /// @dev The SM2 curve (GB/T 32918.5, sm2p256v1): field prime p, coefficients a = p - 3 and b, order n.
    uint256 private constant _SM2_P = 0xFFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF00000000FFFFFFFFFFFFFFFF;
    uint256 private constant _SM2_A = 0xFFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF00000000FFFFFFFFFFFFFFFC;
    uint256 private constant _SM2_B = 0x28E9FA9E9D9F5E344D5A9E4BCF6509A7F39789F515AB8F92DDBCBD414D940E93;
    uint256 private constant _SM2_N = 0xFFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFF7203DF6B21C6052B53BBF40939D54123;
    uint256 private constant _SM2_MAX_ID = 64;
    uint256 private constant _SM2_MAX_CERTIFICATE = 2048;

    /// @dev Domain separation tag of proofs of possession (ciphersuite BLS_SIG_BLS12381G2_XMD:SHA-256_SSWU_RO_POP_).
    bytes private constant _POP_DST = "BLS_POP_BLS12381G2_XMD:SHA-256_SSWU_RO_POP_";

    /// @dev What became of a key, in one storage slot: whether it is closed (rotated or retired: no
    /// further rotation or retirement), whether it rotated itself, and the key it was rotated to
    /// (zero when never rotated).
    struct Rotation {
        bool closed;
        bool bySelf;
        address successor;
    }

    /// @dev GB 32100 check-character weights of the first 17 characters, one byte each.
    bytes17 private constant _USCC_WEIGHTS = 0x0103091b131a1011141d190d08180a1e1c;

    mapping(uint32 region => Region) private _regions;
    mapping(uint32 region => mapping(address account => bool)) private _authorities;
    mapping(bytes32 issuerId => Issuer) private _issuers;
    mapping(address key => KeyWindow) private _keys;
    mapping(bytes32 issuerId => mapping(bytes32 licenseType => TypePermission)) private _permissions;
    mapping(address key => Rotation) private _rotations;
    mapping(bytes32 issuerId => uint32 region) private _allowedRegions; // federation exceptions
    mapping(bytes32 keyId => CoSigningKey) private _coSigningKeys;
    mapping(uint32 region => mapping(bytes32 licenseType => bytes32[] departments)) private _policies;
    mapping(address key => bytes32 keyHash) private _sm2Keys; // keccak256(publicKey || ID) of the bound SM2 key

    /// @param admin the first federation admin, also holding `DEFAULT_ADMIN_ROLE` (grants roles).
    constructor(address admin) EIP712("E-License Trust Registry", "1") {
        if (admin == address(0)) revert TrustRegistryZeroAddress();
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _grantRole(FEDERATION_ADMIN_ROLE, admin);
    }

    // ----------------------------------------------------------------------------------------------
    // Regions (federation admins)
    // ----------------------------------------------------------------------------------------------

    /// @inheritdoc ITrustRegistry
    function addRegion(uint32 region, string calldata name) external onlyRole(FEDERATION_ADMIN_ROLE) {
        if (region < 100000 || region > 999999) revert TrustRegistryInvalidRegionCode(region);
        if (_regions[region].exists) revert TrustRegistryRegionExists(region);
        _regions[region] = Region({exists: true, name: name});
        emit RegionAdded(region, name);
    }

    /// @inheritdoc ITrustRegistry
    function addRegionAuthority(uint32 region, address account) external onlyRole(FEDERATION_ADMIN_ROLE) {
        _requireRegion(region);
        if (account == address(0)) revert TrustRegistryZeroAddress();
        if (_authorities[region][account]) revert TrustRegistryAuthorityExists(region, account);
        bytes32 keyIssuer = _keys[account].issuerId;
        if (keyIssuer != bytes32(0) && _issuers[keyIssuer].region == region) {
            revert TrustRegistryKeyIsAuthority(keyIssuer, account); // a key of an issuer of this region
        }
        _authorities[region][account] = true;
        emit RegionAuthorityAdded(region, account);
    }

    /// @inheritdoc ITrustRegistry
    function removeRegionAuthority(uint32 region, address account) external onlyRole(FEDERATION_ADMIN_ROLE) {
        _requireRegion(region);
        if (!_authorities[region][account]) revert TrustRegistryNotRegionAuthority(region, account);
        _authorities[region][account] = false;
        emit RegionAuthorityRemoved(region, account);
    }

    // ----------------------------------------------------------------------------------------------
    // Exceptions to the division rule (federation admins)
    // ----------------------------------------------------------------------------------------------

    /// @inheritdoc ITrustRegistry
    function allowIssuerRegion(bytes32 issuerId, uint32 region) external onlyRole(FEDERATION_ADMIN_ROLE) {
        if (issuerId == bytes32(0)) revert TrustRegistryZeroId();
        _divisionOf(issuerId);
        if (region != 0) _requireRegion(region);
        if (_issuers[issuerId].exists) revert TrustRegistryIssuerExists(issuerId);
        _allowedRegions[issuerId] = region;
        emit IssuerRegionAllowed(issuerId, region);
    }

    // ----------------------------------------------------------------------------------------------
    // Issuers (region authorities)
    // ----------------------------------------------------------------------------------------------

    /// @inheritdoc ITrustRegistry
    function registerIssuer(
        bytes32 issuerId,
        uint32 region,
        string calldata name,
        bytes32 profileHash,
        string calldata profileURI
    ) external {
        if (issuerId == bytes32(0)) revert TrustRegistryZeroId();
        uint32 division = _divisionOf(issuerId);
        _requireRegion(region);
        _requireAuthority(region);
        if (!isDivisionInRegion(division, region) && _allowedRegions[issuerId] != region) {
            revert TrustRegistryIssuerOutsideRegion(issuerId, division, region);
        }
        if (_issuers[issuerId].exists) revert TrustRegistryIssuerExists(issuerId);
        _issuers[issuerId] = Issuer({
            exists: true,
            active: true,
            region: region,
            profileHash: profileHash,
            name: name,
            profileURI: profileURI
        });
        emit IssuerRegistered(issuerId, region, name, profileHash, profileURI);
    }

    /// @inheritdoc ITrustRegistry
    function updateIssuerProfile(
        bytes32 issuerId,
        string calldata name,
        bytes32 profileHash,
        string calldata profileURI
    ) external {
        Issuer storage issuer = _requireIssuer(issuerId);
        _requireAuthority(issuer.region);
        issuer.name = name;
        issuer.profileHash = profileHash;
        issuer.profileURI = profileURI;
        emit IssuerProfileUpdated(issuerId, name, profileHash, profileURI);
    }

    /// @inheritdoc ITrustRegistry
    function setIssuerActive(bytes32 issuerId, bool active) external {
        Issuer storage issuer = _requireIssuer(issuerId);
        _requireAuthority(issuer.region);
        issuer.active = active;
        emit IssuerActiveSet(issuerId, active);
    }

    // ----------------------------------------------------------------------------------------------
    // Keys (region authorities, or a key of the issuer valid now)
    // ----------------------------------------------------------------------------------------------

    /// @inheritdoc ITrustRegistry
    function addKey(bytes32 issuerId, address key, uint64 validFrom, uint64 validUntil, bytes calldata acceptance)
        external
    {
        Issuer storage issuer = _requireIssuer(issuerId);
        _requireAuthority(issuer.region);
        _addKey(issuerId, key, validFrom, validUntil, keyAcceptanceDigest(issuerId, key), acceptance, 0);
    }

    /// @inheritdoc ITrustRegistry
    function addSm2Key(
        bytes32 issuerId,
        address key,
        Sm2KeyRegistration calldata sm2,
        uint64 validFrom,
        uint64 validUntil,
        bytes calldata acceptance
    ) external {
        Issuer storage issuer = _requireIssuer(issuerId);
        _requireAuthority(issuer.region);
        bytes32 keyHash = _checkSm2(sm2);
        bytes32 digest = sm2KeyAcceptanceDigest(issuerId, key, sm2.publicKey, sm2.distinguishingId);
        _addKey(issuerId, key, validFrom, validUntil, digest, acceptance, keyHash);
        _bindSm2(issuerId, key, keyHash, sm2);
    }

    /// @inheritdoc ITrustRegistry
    function rotateKey(bytes32 issuerId, address oldKey, address newKey, bytes calldata acceptance) external {
        bool bySelf = _requireSelfOrAuthority(issuerId, oldKey);
        uint64 nowTs = _closeForRotation(issuerId, oldKey);
        _addKey(issuerId, newKey, nowTs, OPEN_END, keyAcceptanceDigest(issuerId, newKey), acceptance, 0);
        _recordRotation(issuerId, oldKey, newKey, bySelf);
    }

    /// @inheritdoc ITrustRegistry
    function rotateSm2Key(
        bytes32 issuerId,
        address oldKey,
        address newKey,
        Sm2KeyRegistration calldata sm2,
        bytes calldata acceptance
    ) external {
        bool bySelf = _requireSelfOrAuthority(issuerId, oldKey);
        bytes32 keyHash = _checkSm2(sm2);
        uint64 nowTs = _closeForRotation(issuerId, oldKey);
        bytes32 digest = sm2KeyAcceptanceDigest(issuerId, newKey, sm2.publicKey, sm2.distinguishingId);
        _addKey(issuerId, newKey, nowTs, OPEN_END, digest, acceptance, keyHash);
        _bindSm2(issuerId, newKey, keyHash, sm2);
        _recordRotation(issuerId, oldKey, newKey, bySelf);
    }

    /// @inheritdoc ITrustRegistry
    function retireKey(bytes32 issuerId, address key) external {
        _requireSelfOrAuthority(issuerId, key);
        uint64 nowTs = uint64(block.timestamp);
        KeyWindow storage window = _requireKey(issuerId, key);
        Rotation storage rotation = _rotations[key];
        if (rotation.closed) revert TrustRegistryKeyClosed(issuerId, key);
        if (window.validUntil <= nowTs) revert TrustRegistryKeyNotValid(issuerId, key, nowTs);
        rotation.closed = true;
        // valid through the current second (what it did in this block counts), or never if not started
        uint64 end = window.validFrom > nowTs ? window.validFrom : nowTs + 1;
        window.validUntil = end;
        emit KeyRetired(issuerId, key, end);
    }

    /// @inheritdoc ITrustRegistry
    function declareKeyCompromised(bytes32 issuerId, address key, uint64 compromisedAt) external {
        Issuer storage issuer = _requireIssuer(issuerId);
        _requireAuthority(issuer.region);
        KeyWindow storage window = _requireKey(issuerId, key);
        if (
            compromisedAt < window.validFrom || compromisedAt > block.timestamp
                || compromisedAt >= window.validUntil
        ) {
            revert TrustRegistryCompromiseTimeOutOfRange(key, compromisedAt, window.validFrom, window.validUntil);
        }
        window.validUntil = compromisedAt;
        emit KeyCompromised(issuerId, key, compromisedAt);
        // void the successors this key rotated itself to (a thief's keys: each starts at or after the
        // rotation, so after the compromise), and theirs, walking through successors voided before;
        // at most MAX_CASCADE per call. To go further, declare the first key not reached compromised
        // from its start (`getRotation` and the `KeyRotated` events give the chain).
        Rotation memory rotation = _rotations[key];
        uint256 walked = 0;
        for (; rotation.bySelf && walked < MAX_CASCADE; ++walked) {
            address successor = rotation.successor;
            KeyWindow storage next = _keys[successor];
            if (next.validUntil != next.validFrom) {
                next.validUntil = next.validFrom;
                emit KeyCompromised(issuerId, successor, next.validFrom);
            }
            rotation = _rotations[successor];
        }
        if (rotation.bySelf) emit KeyCompromiseWalkTruncated(issuerId, rotation.successor);
    }

    // ----------------------------------------------------------------------------------------------
    // Co-signing keys (region authorities; a signing key of the issuer valid now may retire one)
    // ----------------------------------------------------------------------------------------------

    /// @inheritdoc ITrustRegistry
    function addCoSigningKey(
        bytes32 issuerId,
        bytes calldata publicKey,
        bytes calldata proof,
        uint64 validFrom,
        uint64 validUntil
    ) external {
        Issuer storage issuer = _requireIssuer(issuerId);
        _requireAuthority(issuer.region);
        _addCoSigningKey(issuerId, publicKey, proof, validFrom, validUntil);
    }

    /// @inheritdoc ITrustRegistry
    function rotateCoSigningKey(bytes32 issuerId, bytes32 oldKeyId, bytes calldata newPublicKey, bytes calldata newProof)
        external
    {
        Issuer storage issuer = _requireIssuer(issuerId);
        _requireAuthority(issuer.region);
        uint64 nowTs = uint64(block.timestamp);
        CoSigningKey storage old = _requireCoSigningKey(issuerId, oldKeyId);
        if (old.closed) revert TrustRegistryCoSigningKeyClosed(issuerId, oldKeyId);
        if (!(old.validFrom <= nowTs && nowTs < old.validUntil)) {
            revert TrustRegistryCoSigningKeyNotValid(issuerId, oldKeyId, nowTs);
        }
        old.closed = true;
        // the old key stays valid through the current second, so what it co-signed in this block counts
        old.validUntil = nowTs + 1;
        emit CoSigningKeyRetired(issuerId, oldKeyId, nowTs + 1);
        bytes32 newKeyId = _addCoSigningKey(issuerId, newPublicKey, newProof, nowTs, OPEN_END);
        emit CoSigningKeyRotated(issuerId, oldKeyId, newKeyId);
    }

    /// @inheritdoc ITrustRegistry
    function retireCoSigningKey(bytes32 issuerId, bytes32 keyId) external {
        Issuer storage issuer = _requireIssuer(issuerId);
        if (!_authorities[issuer.region][msg.sender] && !isKeyValid(issuerId, msg.sender, uint64(block.timestamp))) {
            revert TrustRegistryNotIssuerOrAuthority(issuerId, msg.sender);
        }
        uint64 nowTs = uint64(block.timestamp);
        CoSigningKey storage key = _requireCoSigningKey(issuerId, keyId);
        if (key.closed) revert TrustRegistryCoSigningKeyClosed(issuerId, keyId);
        if (key.validUntil <= nowTs) revert TrustRegistryCoSigningKeyNotValid(issuerId, keyId, nowTs);
        key.closed = true;
        // valid through the current second (what it co-signed in this block counts), or never if not started
        uint64 end = key.validFrom > nowTs ? key.validFrom : nowTs + 1;
        key.validUntil = end;
        emit CoSigningKeyRetired(issuerId, keyId, end);
    }

    /// @inheritdoc ITrustRegistry
    function declareCoSigningKeyCompromised(bytes32 issuerId, bytes32 keyId, uint64 compromisedAt) external {
        Issuer storage issuer = _requireIssuer(issuerId);
        _requireAuthority(issuer.region);
        CoSigningKey storage key = _requireCoSigningKey(issuerId, keyId);
        if (compromisedAt < key.validFrom || compromisedAt > block.timestamp || compromisedAt >= key.validUntil) {
            revert TrustRegistryCoSigningKeyCompromiseTimeOutOfRange(
                keyId, compromisedAt, key.validFrom, key.validUntil
            );
        }
        key.validUntil = compromisedAt;
        emit CoSigningKeyCompromised(issuerId, keyId, compromisedAt);
    }

    // ----------------------------------------------------------------------------------------------
    // Co-approval policies (region authorities)
    // ----------------------------------------------------------------------------------------------

    /// @inheritdoc ITrustRegistry
    function setCoApprovalPolicy(uint32 region, bytes32 licenseType, bytes32[] calldata departments) external {
        _requireRegion(region);
        _requireAuthority(region);
        if (licenseType == bytes32(0)) revert TrustRegistryZeroId();
        uint256 count = departments.length;
        if (count > MAX_POLICY_DEPARTMENTS) revert TrustRegistryTooManyDepartments(count, MAX_POLICY_DEPARTMENTS);
        bytes32 previous = bytes32(0);
        for (uint256 i = 0; i < count; ++i) {
            bytes32 department = departments[i];
            if (department <= previous) revert TrustRegistryDepartmentsNotAscending(i);
            _requireIssuer(department);
            previous = department;
        }
        _policies[region][licenseType] = departments;
        emit CoApprovalPolicySet(region, licenseType, departments);
    }

    // ----------------------------------------------------------------------------------------------
    // License types (region authorities)
    // ----------------------------------------------------------------------------------------------

    /// @inheritdoc ITrustRegistry
    function permitLicenseType(bytes32 issuerId, bytes32 licenseType, uint64 validFrom, uint64 validUntil)
        external
    {
        Issuer storage issuer = _requireIssuer(issuerId);
        _requireAuthority(issuer.region);
        if (licenseType == bytes32(0)) revert TrustRegistryZeroId();
        if (validFrom >= validUntil) revert TrustRegistryInvalidWindow(validFrom, validUntil);
        _permissions[issuerId][licenseType] = TypePermission({validFrom: validFrom, validUntil: validUntil});
        emit LicenseTypePermitted(issuerId, licenseType, validFrom, validUntil);
    }

    // ----------------------------------------------------------------------------------------------
    // Views
    // ----------------------------------------------------------------------------------------------

    /// @inheritdoc ITrustRegistry
    function isKeyValid(bytes32 issuerId, address key, uint64 at) public view returns (bool) {
        KeyWindow storage window = _keys[key];
        return issuerId != bytes32(0) && window.issuerId == issuerId && window.validFrom <= at
            && at < window.validUntil;
    }

    /// @inheritdoc ITrustRegistry
    function mayIssue(bytes32 issuerId, bytes32 licenseType, uint64 at) external view returns (bool) {
        TypePermission storage p = _permissions[issuerId][licenseType];
        return p.validFrom <= at && at < p.validUntil;
    }

    /// @inheritdoc ITrustRegistry
    function isAuthorityOfIssuer(bytes32 issuerId, address account) public view returns (bool) {
        Issuer storage issuer = _issuers[issuerId];
        return issuer.exists && _authorities[issuer.region][account];
    }

    /// @inheritdoc ITrustRegistry
    function getKey(address key) external view returns (KeyWindow memory) {
        return _keys[key];
    }

    /// @inheritdoc ITrustRegistry
    function getRotation(address key) external view returns (address successor, bool bySelf, bool closed) {
        Rotation storage rotation = _rotations[key];
        return (rotation.successor, rotation.bySelf, rotation.closed);
    }

    /// @inheritdoc ITrustRegistry
    function getIssuerState(bytes32 issuerId) external view returns (bool exists, bool active, uint32 region) {
        Issuer storage issuer = _issuers[issuerId];
        return (issuer.exists, issuer.active, issuer.region);
    }

    /// @inheritdoc ITrustRegistry
    function getIssuer(bytes32 issuerId) external view returns (Issuer memory) {
        return _issuers[issuerId];
    }

    /// @inheritdoc ITrustRegistry
    function getRegion(uint32 region) external view returns (Region memory) {
        return _regions[region];
    }

    /// @inheritdoc ITrustRegistry
    function isRegionAuthority(uint32 region, address account) external view returns (bool) {
        return _authorities[region][account];
    }

    /// @inheritdoc ITrustRegistry
    function getTypePermission(bytes32 issuerId, bytes32 licenseType) external view returns (TypePermission memory) {
        return _permissions[issuerId][licenseType];
    }

    /// @inheritdoc ITrustRegistry
    function getAllowedRegion(bytes32 issuerId) external view returns (uint32) {
        return _allowedRegions[issuerId];
    }

    /// @inheritdoc ITrustRegistry
    function issuerDivision(bytes32 issuerId) external pure returns (uint32) {
        return _divisionOf(issuerId);
    }

    /// @inheritdoc ITrustRegistry
    function isDivisionInRegion(uint32 division, uint32 region) public pure returns (bool) {
        if (region % 10000 == 0) return division / 10000 == region / 10000; // a province
        if (region % 100 == 0) return division / 100 == region / 100; // a prefecture-level city
        return division == region;
    }

    /// @inheritdoc ITrustRegistry
    function getCoSigningKey(bytes32 keyId) external view returns (CoSigningKey memory) {
        return _coSigningKeys[keyId];
    }

    /// @inheritdoc ITrustRegistry
    function isCoSigningKeyValid(bytes32 issuerId, bytes32 keyId, uint64 at) external view returns (bool) {
        CoSigningKey storage key = _coSigningKeys[keyId];
        return issuerId != bytes32(0) && key.issuerId == issuerId && key.validFrom <= at && at < key.validUntil;
    }

    /// @inheritdoc ITrustRegistry
    function coSigningKeyId(bytes calldata publicKey) external pure returns (bytes32) {
        return _coSigningKeyId(publicKey);
    }

    /// @inheritdoc ITrustRegistry
    function getCoApprovalPolicy(uint32 region, bytes32 licenseType) external view returns (bytes32[] memory) {
        return _policies[region][licenseType];
    }

    /// @inheritdoc ITrustRegistry
    function keyAcceptanceDigest(bytes32 issuerId, address key) public view returns (bytes32) {
        return _hashTypedDataV4(keccak256(abi.encode(KEY_ACCEPTANCE_TYPEHASH, issuerId, key)));
    }

    /// @inheritdoc ITrustRegistry
    function sm2KeyAcceptanceDigest(
        bytes32 issuerId,
        address key,
        bytes calldata publicKey,
        bytes calldata distinguishingId
    ) public view returns (bytes32) {
        bytes32 structHash = keccak256(
            abi.encode(SM2_KEY_ACCEPTANCE_TYPEHASH, issuerId, key, keccak256(publicKey), keccak256(distinguishingId))
        );
        return _hashTypedDataV4(structHash);
    }

    /// @inheritdoc ITrustRegistry
    function getSm2Key(address key) external view returns (bytes32) {
        return _sm2Keys[key];
    }

    // ----------------------------------------------------------------------------------------------
    // Internals
    // ----------------------------------------------------------------------------------------------

    /// @dev `digest` is what the key accepts (`keyAcceptanceDigest`, or `sm2KeyAcceptanceDigest`
    /// when `sm2KeyHash` names the SM2 key being bound; zero for a plain key).
    function _addKey(
        bytes32 issuerId,
        address key,
        uint64 validFrom,
        uint64 validUntil,
        bytes32 digest,
        bytes calldata acceptance,
        bytes32 sm2KeyHash
    ) private {
        if (key == address(0)) revert TrustRegistryZeroAddress();
        if (_authorities[_issuers[issuerId].region][key]) revert TrustRegistryKeyIsAuthority(issuerId, key);
        bytes32 owner = _keys[key].issuerId;
        if (owner != bytes32(0)) revert TrustRegistryKeyInUse(key, owner);
        if (validFrom >= validUntil) revert TrustRegistryInvalidWindow(validFrom, validUntil);
        // the key's consent, last: without it anyone could attach an address another department announced
        if (!SignatureChecker.isValidSignatureNowCalldata(key, digest, acceptance)) {
            if (sm2KeyHash != bytes32(0)) revert TrustRegistrySm2KeyNotAccepted(issuerId, key, sm2KeyHash);
            revert TrustRegistryKeyNotAccepted(issuerId, key);
        }
        _keys[key] = KeyWindow({issuerId: issuerId, validFrom: validFrom, validUntil: validUntil});
        emit KeyAdded(issuerId, key, validFrom, validUntil);
    }

    /// @dev The old key of a rotation, checked (`issuerId`'s, not closed, valid now) and closed: its
    /// window ends after the current second, so what it did in this block counts. Returns now.
    function _closeForRotation(bytes32 issuerId, address oldKey) private returns (uint64 nowTs) {
        nowTs = uint64(block.timestamp);
        KeyWindow storage window = _requireKey(issuerId, oldKey);
        Rotation storage rotation = _rotations[oldKey];
        if (rotation.closed) revert TrustRegistryKeyClosed(issuerId, oldKey);
        if (!(window.validFrom <= nowTs && nowTs < window.validUntil)) {
            revert TrustRegistryKeyNotValid(issuerId, oldKey, nowTs);
        }
        rotation.closed = true;
        window.validUntil = nowTs + 1;
        emit KeyRetired(issuerId, oldKey, nowTs + 1);
    }

    function _recordRotation(bytes32 issuerId, address oldKey, address newKey, bool bySelf) private {
        Rotation storage rotation = _rotations[oldKey];
        rotation.successor = newKey;
        rotation.bySelf = bySelf;
        emit KeyRotated(issuerId, oldKey, newKey, bySelf);
    }

    /// @dev The shape of an SM2 registration, cheapest check first: the lengths, the coordinates
    /// below p, the point on the curve `y^2 = x^3 + a x + b (mod p)`, the proof's r and s in
    /// [1, n - 1]. Returns keccak256(publicKey || distinguishingId).
    function _checkSm2(Sm2KeyRegistration calldata sm2) private pure returns (bytes32) {
        bytes calldata publicKey = sm2.publicKey;
        bytes calldata id = sm2.distinguishingId;
        bytes calldata proof = sm2.proof;
        if (publicKey.length != 64) revert TrustRegistryInvalidSm2KeyLength(publicKey.length);
        if (id.length == 0 || id.length > _SM2_MAX_ID) revert TrustRegistryInvalidSm2IdLength(id.length);
        if (proof.length != 64) revert TrustRegistryInvalidSm2ProofLength(proof.length);
        uint256 certificateLength = sm2.certificate.length;
        if (certificateLength > _SM2_MAX_CERTIFICATE) {
            revert TrustRegistrySm2CertificateTooLong(certificateLength, _SM2_MAX_CERTIFICATE);
        }
        uint256 x = uint256(bytes32(publicKey[0:32]));
        uint256 y = uint256(bytes32(publicKey[32:64]));
        if (x >= _SM2_P || y >= _SM2_P) revert TrustRegistrySm2CoordinateOutOfRange(x, y);
        uint256 rhs = addmod(mulmod(mulmod(x, x, _SM2_P), x, _SM2_P), addmod(mulmod(_SM2_A, x, _SM2_P), _SM2_B, _SM2_P), _SM2_P);
        if (mulmod(y, y, _SM2_P) != rhs) revert TrustRegistrySm2KeyNotOnCurve(x, y);
        uint256 r = uint256(bytes32(proof[0:32]));
        uint256 s = uint256(bytes32(proof[32:64]));
        if (r == 0 || r >= _SM2_N || s == 0 || s >= _SM2_N) revert TrustRegistrySm2ProofOutOfRange(r, s);
        return keccak256(abi.encodePacked(publicKey, id));
    }

    function _bindSm2(bytes32 issuerId, address key, bytes32 keyHash, Sm2KeyRegistration calldata sm2) private {
        _sm2Keys[key] = keyHash;
        emit Sm2KeyBound(issuerId, key, sm2.publicKey, sm2.distinguishingId, sm2.proof, sm2.certificate);
    }

    /// @dev Checks run cheapest first: the window, the encoding, the key id unused, subgroup
    /// membership (EIP-2537 G1MSM), then the proof of possession (hash to G2 and a pairing).
    function _addCoSigningKey(
        bytes32 issuerId,
        bytes calldata publicKey,
        bytes calldata proof,
        uint64 validFrom,
        uint64 validUntil
    ) private returns (bytes32 keyId) {
        if (validFrom >= validUntil) revert TrustRegistryInvalidWindow(validFrom, validUntil);
        bytes memory point = publicKey;
        if (!BLS12381.isG1Encoding(point)) revert TrustRegistryInvalidCoSigningKey(publicKey);
        bytes memory compressed = BLS12381.compressG1(point);
        keyId = keccak256(compressed);
        bytes32 owner = _coSigningKeys[keyId].issuerId;
        if (owner != bytes32(0)) revert TrustRegistryCoSigningKeyInUse(keyId, owner);
        if (!BLS12381.isInG1(point)) revert TrustRegistryInvalidCoSigningKey(publicKey);
        if (!BLS12381.verify(point, compressed, _POP_DST, proof)) revert TrustRegistryInvalidProofOfPossession(keyId);
        _coSigningKeys[keyId] =
            CoSigningKey({issuerId: issuerId, validFrom: validFrom, validUntil: validUntil, closed: false});
        emit CoSigningKeyAdded(issuerId, keyId, publicKey, validFrom, validUntil);
    }

    function _coSigningKeyId(bytes calldata publicKey) private pure returns (bytes32) {
        bytes memory point = publicKey;
        if (!BLS12381.isG1Encoding(point)) revert TrustRegistryInvalidCoSigningKey(publicKey);
        return keccak256(BLS12381.compressG1(point));
    }

    function _requireCoSigningKey(bytes32 issuerId, bytes32 keyId) private view returns (CoSigningKey storage key) {
        key = _coSigningKeys[keyId];
        if (key.issuerId != issuerId) revert TrustRegistryUnknownCoSigningKey(issuerId, keyId);
    }

    /// @dev The division (characters 3 to 8) of the credit code in `issuerId`, after checking the
    /// id's form: 18 characters of the GB 32100 alphabet with digits in 3 to 8 and a valid check
    /// character (weighted sum modulo 31), then 14 zero bytes.
    function _divisionOf(bytes32 issuerId) private pure returns (uint32 division) {
        if (uint256(issuerId) & type(uint112).max != 0) revert TrustRegistryInvalidIssuerId(issuerId);
        uint256 total = 0;
        for (uint256 i = 0; i < 18; ++i) {
            uint256 value = _usccValue(uint8(issuerId[i]));
            if (value > 30 || (i >= 2 && i < 8 && value > 9)) revert TrustRegistryInvalidIssuerId(issuerId);
            if (i >= 2 && i < 8) division = division * 10 + uint32(value);
            if (i < 17) {
                total += value * uint8(_USCC_WEIGHTS[i]);
            } else if (value != (31 - total % 31) % 31) {
                revert TrustRegistryInvalidIssuerId(issuerId);
            }
        }
    }

    /// @dev Value of a character in the GB 32100 alphabet `0-9 A-H J-N P-R T-U W-Y` (0 to 30), 255
    /// for any other byte.
    function _usccValue(uint8 c) private pure returns (uint256) {
        if (c >= 0x30 && c <= 0x39) return c - 0x30; // 0-9
        if (c >= 0x41 && c <= 0x48) return c - 0x41 + 10; // A-H
        if (c >= 0x4A && c <= 0x4E) return c - 0x4A + 18; // J-N
        if (c >= 0x50 && c <= 0x52) return c - 0x50 + 23; // P-R
        if (c == 0x54 || c == 0x55) return c - 0x54 + 26; // T-U
        if (c >= 0x57 && c <= 0x59) return c - 0x57 + 28; // W-Y
        return 255;
    }

    function _requireRegion(uint32 region) private view {
        if (!_regions[region].exists) revert TrustRegistryUnknownRegion(region);
    }

    function _requireAuthority(uint32 region) private view {
        if (!_authorities[region][msg.sender]) revert TrustRegistryNotRegionAuthority(region, msg.sender);
    }

    function _requireIssuer(bytes32 issuerId) private view returns (Issuer storage issuer) {
        issuer = _issuers[issuerId];
        if (!issuer.exists) revert TrustRegistryUnknownIssuer(issuerId);
    }

    /// @dev Returns true when the caller is `key` itself (valid now), false for an authority.
    function _requireSelfOrAuthority(bytes32 issuerId, address key) private view returns (bool bySelf) {
        Issuer storage issuer = _requireIssuer(issuerId);
        if (_authorities[issuer.region][msg.sender]) return false;
        if (msg.sender == key && isKeyValid(issuerId, msg.sender, uint64(block.timestamp))) return true;
        revert TrustRegistryNotIssuerOrAuthority(issuerId, msg.sender);
    }

    function _requireKey(bytes32 issuerId, address key) private view returns (KeyWindow storage window) {
        window = _keys[key];
        if (window.issuerId != issuerId) revert TrustRegistryUnknownKey(issuerId, key);
    }
}
