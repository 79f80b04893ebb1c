"""Batch Merkle trees, identical to the one ``LicenseRegistry.anchor`` recomputes on chain.

The leaves are ``keccak256(digest)`` for each 32-byte license digest, the digests taken in strictly
ascending order. Each level pairs neighbours with the sorted-pair (commutative) keccak of
OpenZeppelin's ``Hashes.commutativeKeccak256``; an odd node at the end of a level is carried up
unchanged. Proofs therefore verify with OpenZeppelin's ``MerkleProof.verify(proof, root, leaf)``.
Leaves hash 32 bytes and inner nodes 64, so a leaf can never be mistaken for an inner node.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from signer._keccak import keccak256
from signer.errors import SignerInputError

__all__ = ["MerkleTree", "hash_pair", "leaf_hash", "merkle_root", "verify_proof"]


def leaf_hash(digest: bytes) -> bytes:
    """Leaf of a license digest: ``keccak256(digest)``."""
    return keccak256(digest)


def hash_pair(a: bytes, b: bytes) -> bytes:
    """Sorted-pair keccak of two nodes."""
    return keccak256(a + b) if a < b else keccak256(b + a)


def _check_digests(digests: Sequence[bytes]) -> None:
    if not digests:
        raise SignerInputError("a batch needs at least one digest")
    previous = b"\x00" * 32
    for index, digest in enumerate(digests):
        if not isinstance(digest, bytes) or len(digest) != 32:
            raise SignerInputError(f"digest #{index} must be 32 bytes, got {digest!r}")
        if digest <= previous:
            raise SignerInputError(
                f"digest #{index} is zero, duplicated or out of order: digests must be non-zero and strictly ascending"
            )
        previous = digest


class MerkleTree:
    """The tree of one batch. Build it with :meth:`from_digests` (sorts and de-duplicates)."""

    __slots__ = ("_index", "digests", "levels")

    def __init__(self, digests: Sequence[bytes]) -> None:
        """Build from digests already strictly ascending (see :meth:`from_digests`)."""
        _check_digests(digests)
        self.digests: tuple[bytes, ...] = tuple(digests)
        level = [leaf_hash(d) for d in self.digests]
        levels = [level]
        while len(level) > 1:
            nxt = [hash_pair(level[i], level[i + 1]) for i in range(0, len(level) - 1, 2)]
            if len(level) % 2:
                nxt.append(level[-1])
            levels.append(nxt)
            level = nxt
        self.levels: tuple[tuple[bytes, ...], ...] = tuple(tuple(lv) for lv in levels)
        self._index = {d: i for i, d in enumerate(self.digests)}

    @classmethod
    def from_digests(cls, digests: Iterable[bytes]) -> MerkleTree:
        """Build the tree of a set of digests (order and duplicates do not matter)."""
        return cls(sorted(set(digests)))

    @property
    def root(self) -> bytes:
        return self.levels[-1][0]

    def __len__(self) -> int:
        return len(self.digests)

    def __contains__(self, digest: object) -> bool:
        return digest in self._index

    def proof(self, digest: bytes) -> list[bytes]:
        """Sibling hashes from the leaf of ``digest`` up to the root."""
        try:
            index = self._index[digest]
        except KeyError:
            raise SignerInputError(f"digest 0x{digest.hex()} is not in this batch") from None
        proof: list[bytes] = []
        for level in self.levels[:-1]:
            sibling = index ^ 1
            if sibling < len(level):
                proof.append(level[sibling])
            index //= 2
        return proof


def merkle_root(digests: Iterable[bytes]) -> bytes:
    """Root of the batch made of ``digests``."""
    return MerkleTree.from_digests(digests).root


def verify_proof(proof: Sequence[bytes], root: bytes, digest: bytes) -> bool:
    """Check a proof the way ``MerkleProof.verify`` does on chain."""
    node = leaf_hash(digest)
    for sibling in proof:
        node = hash_pair(node, sibling)
    return node == root
