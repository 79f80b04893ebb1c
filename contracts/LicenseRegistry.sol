// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {MerkleProof} from "@openzeppelin/contracts/utils/cryptography/MerkleProof.sol";
import {ILicenseRegistry} from "./interfaces/ILicenseRegistry.sol";
import {ITrustRegistry} from "./interfaces/ITrustRegistry.sol";
import {BLS12381} from "./libraries/BLS12381.sol";

/// @title LicenseRegistry
/// @notice Batch anchoring of license digests, joint anchors of bundles co-signed by several
/// departments, and license status changes (suspend, reinstate, revoke, supersede), many licenses
/// per transaction.
/// @dev Status transitions and the behaviour of every function are documented in `ILicenseRegistry`.
contract LicenseRegistry is ILicenseRegistry, EIP712 {
    /// @inheritdoc ILicenseRegistry
    uint256 public constant MAX_BATCH_SIZE = 10_000;

    /// @inheritdoc ILicenseRegistry
    bytes32 public constant LICENSE_TYPEHASH = keccak256(
        "License(uint16 formatVersion,bytes32 licenseType,string licenseId,bytes32 issuerId,"
        "uint32 validFrom,uint32 validTo,bytes32[] fieldCommitments)"
    );

    /// @inheritdoc ILicenseRegistry
    bytes32 public constant JOINT_MEMBER_TYPEHASH =
        keccak256("JointMember(bytes32 digest,bytes32 licenseType,bytes32 issuerId)");

    /// @inheritdoc ILicenseRegistry
    bytes32 public constant JOINT_BUNDLE_TYPEHASH = keccak256(
        "JointBundle(bytes32 applicationId,bytes32 applicant,JointMember[] members,bytes32[] departments)"
        "JointMember(bytes32 digest,bytes32 licenseType,bytes32 issuerId)"
    );

    /// @inheritdoc ILicenseRegistry
    uint256 public constant MAX_JOINT_MEMBERS = 64;

    /// @inheritdoc ILicenseRegistry
    uint256 public constant MAX_JOINT_DEPARTMENTS = 16;

    /// @dev Domain separation tag of co-signatures (ciphersuite BLS_SIG_BLS12381G2_XMD:SHA-256_SSWU_RO_POP_).
    bytes private constant _SIG_DST = "BLS_SIG_BLS12381G2_XMD:SHA-256_SSWU_RO_POP_";

    /// @inheritdoc ILicenseRegistry
    ITrustRegistry public immutable trustRegistry;

    mapping(bytes32 issuerId => mapping(bytes32 root => Anchor)) private _anchors;
    mapping(bytes32 issuerId => mapping(bytes32 digest => LicenseStatus)) private _statuses;
    mapping(bytes32 bundleDigest => JointAnchor) private _jointAnchors;

    constructor(ITrustRegistry trustRegistry_) EIP712("E-License Registry", "1") {
        trustRegistry = trustRegistry_;
    }

    /// @inheritdoc ILicenseRegistry
    function anchor(bytes32 root, bytes32[] calldata digests) external returns (bytes32 issuerId) {
        if (root == bytes32(0)) revert LicenseRegistryZeroRoot();
        uint256 count = digests.length;
        if (count == 0) revert LicenseRegistryEmptyBatch();
        if (count > MAX_BATCH_SIZE) revert LicenseRegistryBatchTooLarge(count, MAX_BATCH_SIZE);

        ITrustRegistry.KeyWindow memory window = trustRegistry.getKey(msg.sender);
        issuerId = window.issuerId;
        if (issuerId == bytes32(0)) revert LicenseRegistryUnknownKey(msg.sender);
        if (_anchors[issuerId][root].key != address(0)) revert LicenseRegistryBatchExists(issuerId, root);
        uint64 nowTs = uint64(block.timestamp);
        if (!(window.validFrom <= nowTs && nowTs < window.validUntil)) {
            revert LicenseRegistryKeyNotValid(issuerId, msg.sender, nowTs);
        }
        (, bool active,) = trustRegistry.getIssuerState(issuerId);
        if (!active) revert LicenseRegistryIssuerInactive(issuerId);

        bytes32 computed = _merkleRoot(digests);
        if (computed != root) revert LicenseRegistryRootMismatch(root, computed);

        _anchors[issuerId][root] = Anchor({
            key: msg.sender,
            timestamp: uint40(block.timestamp),
            blockNumber: uint40(block.number),
            count: uint16(count)
        });
        _emitBatchAnchored(root, issuerId, digests);
    }

    /// @inheritdoc ILicenseRegistry
    function anchorJoint(JointBundle calldata bundle, bytes calldata publicKeys, bytes calldata signature)
        external
        returns (bytes32 bundleDigest)
    {
        bundleDigest = jointBundleDigest(bundle);
        bytes32[] calldata departments = bundle.departments;
        if (publicKeys.length != departments.length * BLS12381.G1_LENGTH) {
            revert LicenseRegistryInvalidBundle("public keys: 128 bytes per department");
        }
        if (_jointAnchors[bundleDigest].submitter != address(0)) revert LicenseRegistryJointExists(bundleDigest);
        uint256[] memory memberDepartment = _memberDepartments(bundle);
        _requireParticipant(departments);
        (bytes memory aggregateKey, bytes32[] memory keyIds, uint32[] memory regions) =
            _coSigningKeys(departments, publicKeys);
        _requireMemberPolicies(bundle, memberDepartment, regions);
        if (!BLS12381.verify(aggregateKey, abi.encodePacked(bundleDigest), _SIG_DST, signature)) {
            revert LicenseRegistryInvalidAggregateSignature(bundleDigest);
        }
        _jointAnchors[bundleDigest] = JointAnchor({
            submitter: msg.sender,
            timestamp: uint40(block.timestamp),
            blockNumber: uint40(block.number)
        });
        _emitJointAnchored(bundleDigest, bundle, keyIds);
    }

    /// @inheritdoc ILicenseRegistry
    function suspend(bytes32 issuerId, bytes32[] calldata digests, uint16 reason) external {
        _change(issuerId, digests, Status.Suspended, reason);
        emit LicensesSuspended(issuerId, msg.sender, reason, digests);
    }

    /// @inheritdoc ILicenseRegistry
    function reinstate(bytes32 issuerId, bytes32[] calldata digests, uint16 reason) external {
        _change(issuerId, digests, Status.Active, reason);
        emit LicensesReinstated(issuerId, msg.sender, reason, digests);
    }

    /// @inheritdoc ILicenseRegistry
    function revoke(bytes32 issuerId, bytes32[] calldata digests, uint16 reason) external {
        _change(issuerId, digests, Status.Revoked, reason);
        emit LicensesRevoked(issuerId, msg.sender, reason, digests);
    }

    /// @inheritdoc ILicenseRegistry
    function supersede(bytes32 issuerId, bytes32[] calldata digests, bytes32[] calldata replacements, uint16 reason)
        external
    {
        if (digests.length != replacements.length) {
            revert LicenseRegistryLengthMismatch(digests.length, replacements.length);
        }
        _change(issuerId, digests, Status.Superseded, reason);
        mapping(bytes32 => LicenseStatus) storage statuses = _statuses[issuerId];
        for (uint256 i = 0; i < digests.length; ++i) {
            bytes32 replacement = replacements[i];
            if (replacement == bytes32(0) || replacement == digests[i]) {
                revert LicenseRegistryInvalidReplacement(digests[i], replacement);
            }
            statuses[digests[i]].replacement = replacement;
        }
        emit LicensesSuperseded(issuerId, msg.sender, reason, digests, replacements);
    }

    /// @inheritdoc ILicenseRegistry
    function getAnchor(bytes32 issuerId, bytes32 root) external view returns (Anchor memory) {
        return _anchors[issuerId][root];
    }

    /// @inheritdoc ILicenseRegistry
    function getJointAnchor(bytes32 bundleDigest) external view returns (JointAnchor memory) {
        return _jointAnchors[bundleDigest];
    }

    /// @inheritdoc ILicenseRegistry
    function jointBundleDigest(JointBundle calldata bundle) public view returns (bytes32) {
        if (bundle.applicationId == bytes32(0)) revert LicenseRegistryInvalidBundle("zero application id");
        if (bundle.applicant == bytes32(0)) revert LicenseRegistryInvalidBundle("zero applicant");
        bytes32[] calldata digests = bundle.digests;
        uint256 count = digests.length;
        if (count == 0) revert LicenseRegistryInvalidBundle("no members");
        if (count > MAX_JOINT_MEMBERS) revert LicenseRegistryInvalidBundle("more than 64 members");
        if (bundle.licenseTypes.length != count || bundle.issuerIds.length != count) {
            revert LicenseRegistryInvalidBundle("member lists differ in length");
        }
        uint256 departmentCount = bundle.departments.length;
        if (departmentCount == 0) revert LicenseRegistryInvalidBundle("no departments");
        if (departmentCount > MAX_JOINT_DEPARTMENTS) revert LicenseRegistryInvalidBundle("more than 16 departments");
        if (!_strictlyAscending(digests)) revert LicenseRegistryInvalidBundle("members not ascending by digest");
        if (!_strictlyAscending(bundle.departments)) revert LicenseRegistryInvalidBundle("departments not ascending");
        bytes32[] memory memberHashes = new bytes32[](count);
        for (uint256 i = 0; i < count; ++i) {
            memberHashes[i] = keccak256(
                abi.encode(JOINT_MEMBER_TYPEHASH, digests[i], bundle.licenseTypes[i], bundle.issuerIds[i])
            );
        }
        bytes32 structHash = keccak256(
            abi.encode(
                JOINT_BUNDLE_TYPEHASH,
                bundle.applicationId,
                bundle.applicant,
                keccak256(abi.encodePacked(memberHashes)),
                keccak256(abi.encodePacked(bundle.departments))
            )
        );
        return _hashTypedDataV4(structHash);
    }

    /// @inheritdoc ILicenseRegistry
    function getStatus(bytes32 issuerId, bytes32 digest) external view returns (LicenseStatus memory) {
        return _statuses[issuerId][digest];
    }

    /// @inheritdoc ILicenseRegistry
    function licenseDigest(LicenseHeader calldata header, bytes32[] calldata fieldCommitments)
        external
        pure
        returns (bytes32)
    {
        for (uint256 i = 1; i < fieldCommitments.length; ++i) {
            if (fieldCommitments[i] <= fieldCommitments[i - 1]) revert LicenseRegistryCommitmentsNotAscending(i);
        }
        return keccak256(
            abi.encode(
                LICENSE_TYPEHASH,
                header.formatVersion,
                header.licenseType,
                keccak256(bytes(header.licenseId)),
                header.issuerId,
                header.validFrom,
                header.validTo,
                keccak256(abi.encodePacked(fieldCommitments))
            )
        );
    }

    /// @inheritdoc ILicenseRegistry
    function licenseSigner(bytes32 digest, bytes32 r, bytes32 vs) public view returns (address) {
        return ECDSA.recover(_hashTypedDataV4(digest), r, vs);
    }

    /// @inheritdoc ILicenseRegistry
    function isInBatch(bytes32 root, bytes32[] calldata proof, bytes32 digest) public pure returns (bool) {
        return MerkleProof.verifyCalldata(proof, root, keccak256(abi.encode(digest)));
    }

    /// @inheritdoc ILicenseRegistry
    function checkLicense(
        bytes32 issuerId,
        bytes32 digest,
        bytes32 r,
        bytes32 vs,
        bytes32 root,
        bytes32[] calldata proof
    ) external view returns (LicenseCheck memory result) {
        result.signer = licenseSigner(digest, r, vs);
        Anchor storage batch = _anchors[issuerId][root];
        if (issuerId == bytes32(0) || batch.key == address(0) || !isInBatch(root, proof, digest)) {
            return result;
        }
        result.anchored = true;
        result.issuerId = issuerId;
        result.anchoredAt = batch.timestamp;
        result.keyValidAtAnchor =
            batch.key == result.signer && trustRegistry.isKeyValid(issuerId, result.signer, uint64(batch.timestamp));
        result.status = _statuses[issuerId][digest].status;
    }

    /// @inheritdoc ILicenseRegistry
    function voidStatusChanges(bytes32 issuerId, bytes32[] calldata digests) external {
        uint256 count = digests.length;
        if (count == 0) revert LicenseRegistryEmptyBatch();
        if (count > MAX_BATCH_SIZE) revert LicenseRegistryBatchTooLarge(count, MAX_BATCH_SIZE);
        (bool exists,,) = trustRegistry.getIssuerState(issuerId);
        if (!exists) revert LicenseRegistryUnknownIssuer(issuerId);
        if (!trustRegistry.isAuthorityOfIssuer(issuerId, msg.sender)) {
            revert LicenseRegistryNotAuthority(issuerId, msg.sender);
        }
        mapping(bytes32 => LicenseStatus) storage statuses = _statuses[issuerId];
        for (uint256 i = 0; i < count; ++i) {
            LicenseStatus storage entry = statuses[digests[i]];
            address setBy = entry.setBy;
            if (
                entry.status == Status.Active
                    || trustRegistry.getKey(setBy).issuerId != issuerId
                    || trustRegistry.isKeyValid(issuerId, setBy, uint64(entry.setAt))
            ) {
                revert LicenseRegistryStatusNotVoidable(digests[i]);
            }
            entry.status = Status.Active;
            entry.reason = 0;
            entry.setBy = msg.sender;
            entry.setAt = uint40(block.timestamp);
            entry.replacement = bytes32(0);
        }
        emit StatusChangesVoided(issuerId, msg.sender, digests);
    }

    function _change(bytes32 issuerId, bytes32[] calldata digests, Status to, uint16 reason) private {
        uint256 count = digests.length;
        if (count == 0) revert LicenseRegistryEmptyBatch();
        if (count > MAX_BATCH_SIZE) revert LicenseRegistryBatchTooLarge(count, MAX_BATCH_SIZE);
        _requireIssuerOrAuthority(issuerId);
        mapping(bytes32 => LicenseStatus) storage statuses = _statuses[issuerId];
        for (uint256 i = 0; i < count; ++i) {
            bytes32 digest = digests[i];
            if (digest == bytes32(0)) revert LicenseRegistryZeroDigest(i);
            LicenseStatus storage entry = statuses[digest];
            Status from = entry.status;
            if (from == Status.Revoked || from == Status.Superseded) revert LicenseRegistryStatusFinal(digest, from);
            bool allowed = to == Status.Active ? from == Status.Suspended : (to == Status.Suspended
                ? from == Status.Active : true);
            if (!allowed) revert LicenseRegistryInvalidTransition(digest, from, to);
            entry.status = to;
            entry.reason = reason;
            entry.setBy = msg.sender;
            entry.setAt = uint40(block.timestamp);
        }
    }

    function _requireIssuerOrAuthority(bytes32 issuerId) private view {
        (bool exists,,) = trustRegistry.getIssuerState(issuerId);
        if (!exists) revert LicenseRegistryUnknownIssuer(issuerId);
        if (
            !trustRegistry.isKeyValid(issuerId, msg.sender, uint64(block.timestamp))
                && !trustRegistry.isAuthorityOfIssuer(issuerId, msg.sender)
        ) {
            revert LicenseRegistryNotIssuerOrAuthority(issuerId, msg.sender);
        }
    }

    /// @dev Whether `values` are strictly ascending (hence non-zero and unique).
    function _strictlyAscending(bytes32[] calldata values) private pure returns (bool) {
        bytes32 previous = bytes32(0);
        for (uint256 i = 0; i < values.length; ++i) {
            if (values[i] <= previous) return false;
            previous = values[i];
        }
        return true;
    }

    /// @dev The index of each member's issuer among the departments (reverts when it is not one).
    function _memberDepartments(JointBundle calldata bundle) private pure returns (uint256[] memory indexes) {
        uint256 count = bundle.issuerIds.length;
        indexes = new uint256[](count);
        for (uint256 i = 0; i < count; ++i) {
            bytes32 issuerId = bundle.issuerIds[i];
            (bool found, uint256 index) = _indexOf(bundle.departments, issuerId);
            if (!found) revert LicenseRegistryMemberIssuerNotCoSigner(bundle.digests[i], issuerId);
            indexes[i] = index;
        }
    }

    function _indexOf(bytes32[] calldata departments, bytes32 issuerId) private pure returns (bool, uint256) {
        for (uint256 j = 0; j < departments.length; ++j) {
            if (departments[j] == issuerId) return (true, j);
        }
        return (false, 0);
    }

    /// @dev The sender must be a signing key, valid now, of one of the departments.
    function _requireParticipant(bytes32[] calldata departments) private view {
        ITrustRegistry.KeyWindow memory window = trustRegistry.getKey(msg.sender);
        uint64 nowTs = uint64(block.timestamp);
        (bool found,) = _indexOf(departments, window.issuerId);
        if (!found || window.validFrom > nowTs || nowTs >= window.validUntil) {
            revert LicenseRegistryNotParticipant(msg.sender);
        }
    }

    /// @dev Each department active, its key its co-signing key valid now; the keys' sum (each added
    /// with EIP-2537 G1ADD, which refuses a point off the curve: given the key id's match, only the
    /// registered point gets through), their ids, and the departments' regions.
    function _coSigningKeys(bytes32[] calldata departments, bytes calldata publicKeys)
        private
        view
        returns (bytes memory aggregateKey, bytes32[] memory keyIds, uint32[] memory regions)
    {
        uint256 count = departments.length;
        uint64 nowTs = uint64(block.timestamp);
        keyIds = new bytes32[](count);
        regions = new uint32[](count);
        aggregateKey = new bytes(BLS12381.G1_LENGTH); // infinity
        for (uint256 j = 0; j < count; ++j) {
            bytes32 department = departments[j];
            (bool exists, bool active, uint32 region) = trustRegistry.getIssuerState(department);
            if (!exists) revert LicenseRegistryUnknownIssuer(department);
            if (!active) revert LicenseRegistryIssuerInactive(department);
            regions[j] = region;
            bytes memory key = publicKeys[j * BLS12381.G1_LENGTH:(j + 1) * BLS12381.G1_LENGTH];
            bytes32 keyId = keccak256(BLS12381.compressG1(key));
            keyIds[j] = keyId;
            if (!BLS12381.isG1Encoding(key) || !trustRegistry.isCoSigningKeyValid(department, keyId, nowTs)) {
                revert LicenseRegistryCoSigningKeyNotValid(department, keyId, nowTs);
            }
            bool valid;
            (valid, aggregateKey) = BLS12381.g1Add(aggregateKey, key);
            if (!valid) revert LicenseRegistryCoSigningKeyNotValid(department, keyId, nowTs);
        }
    }

    /// @dev Each member's issuer permitted to issue its type now, and every department the
    /// co-approval policy of its type in its issuer's region names among the co-signers.
    function _requireMemberPolicies(JointBundle calldata bundle, uint256[] memory memberDepartment, uint32[] memory regions)
        private
        view
    {
        uint64 nowTs = uint64(block.timestamp);
        for (uint256 i = 0; i < memberDepartment.length; ++i) {
            bytes32 issuerId = bundle.issuerIds[i];
            bytes32 licenseType = bundle.licenseTypes[i];
            if (!trustRegistry.mayIssue(issuerId, licenseType, nowTs)) {
                revert LicenseRegistryTypeNotPermitted(issuerId, licenseType);
            }
            bytes32[] memory required = trustRegistry.getCoApprovalPolicy(regions[memberDepartment[i]], licenseType);
            for (uint256 r = 0; r < required.length; ++r) {
                (bool found,) = _indexOf(bundle.departments, required[r]);
                if (!found) revert LicenseRegistryCoApprovalMissing(bundle.digests[i], licenseType, required[r]);
            }
        }
    }

    /// @dev `emit JointAnchored(bundleDigest, applicationId, msg.sender, applicant, digests,
    /// licenseTypes, issuerIds, departments, keyIds)`, the data encoded in one `abi.encode` (an
    /// `emit` with nine arguments runs out of stack slots).
    function _emitJointAnchored(bytes32 bundleDigest, JointBundle calldata bundle, bytes32[] memory keyIds) private {
        bytes memory data = abi.encode(
            bundle.applicant, bundle.digests, bundle.licenseTypes, bundle.issuerIds, bundle.departments, keyIds
        );
        bytes32 topic = JointAnchored.selector;
        bytes32 applicationId = bundle.applicationId;
        assembly ("memory-safe") {
            log4(add(data, 0x20), mload(data), topic, bundleDigest, applicationId, caller())
        }
    }

    /// @dev Root of the sorted-pair tree over `keccak256(digest)` leaves; an odd node at the end of a
    /// level is carried up unchanged. Reverts unless digests are strictly ascending (hence non-zero
    /// and unique). Written in assembly over memory past the free pointer (never allocated): this
    /// loop is most of the per-license execution cost of anchoring.
    function _merkleRoot(bytes32[] calldata digests) private pure returns (bytes32 root) {
        bytes4 notAscending = LicenseRegistryDigestsNotAscending.selector;
        assembly ("memory-safe") {
            let n := digests.length
            let ptr := mload(0x40)
            let previous := 0
            for { let i := 0 } lt(i, n) { i := add(i, 1) } {
                let digest := calldataload(add(digests.offset, shl(5, i)))
                if iszero(gt(digest, previous)) {
                    mstore(0x00, notAscending)
                    mstore(0x04, i)
                    revert(0x00, 0x24)
                }
                previous := digest
                mstore(0x00, digest)
                mstore(add(ptr, shl(5, i)), keccak256(0x00, 0x20))
            }
            for {} gt(n, 1) {} {
                let m := 0
                let last := sub(n, 1)
                for { let i := 0 } lt(i, last) { i := add(i, 2) } {
                    let a := mload(add(ptr, shl(5, i)))
                    let b := mload(add(ptr, shl(5, add(i, 1))))
                    if gt(a, b) {
                        let t := a
                        a := b
                        b := t
                    }
                    mstore(0x00, a)
                    mstore(0x20, b)
                    mstore(add(ptr, shl(5, m)), keccak256(0x00, 0x40))
                    m := add(m, 1)
                }
                if and(n, 1) {
                    mstore(add(ptr, shl(5, m)), mload(add(ptr, shl(5, last))))
                    m := add(m, 1)
                }
                n := m
            }
            root := mload(ptr)
        }
    }

    /// @dev `emit BatchAnchored(root, issuerId, msg.sender, digests)`, copying the digests from
    /// calldata in one `calldatacopy` instead of element by element.
    function _emitBatchAnchored(bytes32 root, bytes32 issuerId, bytes32[] calldata digests) private {
        bytes32 topic = BatchAnchored.selector;
        assembly ("memory-safe") {
            let ptr := mload(0x40)
            let size := shl(5, digests.length)
            mstore(ptr, 0x20)
            mstore(add(ptr, 0x20), digests.length)
            calldatacopy(add(ptr, 0x40), digests.offset, size)
            log4(ptr, add(0x40, size), topic, root, issuerId, caller())
        }
    }
}
