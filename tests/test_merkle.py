"""Batch Merkle trees: proofs, order independence, and rejection of bad batches."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from signer import MerkleTree, SignerInputError, merkle_root, verify_proof
from signer._merkle import hash_pair, leaf_hash

digest = st.binary(min_size=32, max_size=32).filter(lambda b: b != b"\x00" * 32)
batches = st.sets(digest, min_size=1, max_size=70)


@given(batches)
def test_every_member_has_a_valid_proof(batch):
    tree = MerkleTree.from_digests(batch)
    for d in batch:
        assert verify_proof(tree.proof(d), tree.root, d)


@given(batches, st.randoms())
def test_root_does_not_depend_on_order(batch, rnd):
    items = list(batch)
    rnd.shuffle(items)
    assert merkle_root(items) == merkle_root(sorted(batch))


@given(batches, digest)
def test_a_non_member_does_not_verify_with_any_members_proof(batch, outsider):
    if outsider in batch:
        return
    tree = MerkleTree.from_digests(batch)
    for d in batch:
        assert not verify_proof(tree.proof(d), tree.root, outsider)


@given(batches)
def test_an_inner_node_is_not_a_leaf(batch):
    tree = MerkleTree.from_digests(batch)
    if len(tree.levels) < 3:
        return
    inner = tree.levels[1][0]
    # the inner node as a "digest" with the remaining path must not verify: leaves are hashed again
    assert not verify_proof(
        [tree.levels[lv][1] for lv in range(1, len(tree.levels) - 1) if len(tree.levels[lv]) > 1],
        tree.root,
        inner,
    )


def test_known_small_trees():
    a, b, c = (bytes([i]) * 32 for i in (1, 2, 3))
    assert merkle_root([a]) == leaf_hash(a)
    assert merkle_root([b, a]) == hash_pair(leaf_hash(a), leaf_hash(b))
    # odd node carried up unchanged
    assert merkle_root([a, b, c]) == hash_pair(hash_pair(leaf_hash(a), leaf_hash(b)), leaf_hash(c))


def test_bad_batches_are_refused():
    with pytest.raises(SignerInputError, match="at least one"):
        MerkleTree([])
    with pytest.raises(SignerInputError, match="strictly ascending"):
        MerkleTree([b"\x02" * 32, b"\x01" * 32])
    with pytest.raises(SignerInputError, match="strictly ascending"):
        MerkleTree([b"\x00" * 32])
    with pytest.raises(SignerInputError, match="32 bytes"):
        MerkleTree([b"\x01" * 33])
    tree = MerkleTree.from_digests([b"\x01" * 32])
    with pytest.raises(SignerInputError, match="not in this batch"):
        tree.proof(b"\x02" * 32)
