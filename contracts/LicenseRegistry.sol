// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {MerkleProof} from "@openzeppelin/contracts/utils/cryptography/MerkleProof.sol";
import {ILicenseRegistry} from "./interfaces/ILicenseRegistry.sol";
import {ITrustRegistry} from "./interfaces/ITrustRegistry.sol";

/// @title LicenseRegistry
/// @notice Batch anchoring of license digests and license status changes (suspend, reinstate,
/// revoke, supersede), many licenses per transaction.
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
    ITrustRegistry public immutable trustRegistry;

    mapping(bytes32 issuerId => mapping(bytes32 root => Anchor)) private _anchors;
    mapping(bytes32 issuerId => mapping(bytes32 digest => LicenseStatus)) private _statuses;

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
