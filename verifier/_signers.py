"""The signers of a group of secp256k1 licenses, found together rather than one recovery each (the
batch endpoint's groups, :meth:`verifier.pipeline.Verifier.check_many`).

A recovery is the one step of a verification no license can skip, about half of its cost. But the
signer of an anchored license is known before its signature is checked: a license is valid only if
the key that anchored its digest for its issuer signed it, and the chain state names that key. Its
public key is known too once any license it signed was recovered here (an address's key never
changes). One batch check (:func:`signer.signatures_agree`, a randomly weighted sum over the whole
group) then confirms that every signature recovers to the key expected of it, a few times cheaper
per license than recovering each. The answer is the same as recovering: the check passes only
when each signature recovers to exactly that key, and its signer is then that key's address.

A license whose digest is not anchored for its issuer (or anchored by several of its keys, any of
which may have signed), or whose anchoring key was never seen recovered here, is recovered on its
own (and its key learnt when it is registered on chain). When the check does not pass (a forged or
altered license in the group), each signature of the group is recovered on its own, as without the
batch check: that group costs about a third more than recovering each from the start, whoever sent
the failing license, and nothing that sender does changes what is expected of another group (the
expected keys come from the chain state, and a public key learnt is the one its address is derived
from).
"""

from __future__ import annotations

import threading
from collections.abc import Sequence

from registry.document.presentation import Presentation
from signer._eip712 import eip712_hash
from signer._secp256k1 import key_address, recover_key, signatures_agree
from verifier.state import ChainState

__all__ = ["MAX_REMEMBERED", "GroupSigners"]

#: Most public keys remembered (registered keys seen recovered, about 250 bytes each; the oldest
#: learnt is forgotten past it).
MAX_REMEMBERED = 16384


class GroupSigners:
    """Finds the signers of groups of secp256k1 presentations, remembering registered keys' public keys."""

    def __init__(self, domain: bytes) -> None:
        self.domain = domain
        self._keys: dict[str, bytes] = {}  # address -> its public key (64 bytes), learnt by recovery
        self._lock = threading.Lock()

    def find(self, state: ChainState, group: Sequence[tuple[Presentation, bytes]]) -> list[str | None]:
        """The signer of each ``(presentation, digest)`` (secp256k1 suite), as
        :func:`signer.recover_signer` gives it: the checksummed address, or ``None`` when the
        signature is not a canonical one."""
        hashes = [eip712_hash(self.domain, digest) for _, digest in group]
        found: list[str | None] = [None] * len(group)
        expected: list[tuple[int, bytes, str]] = []  # (position, public key, address)
        for i, (p, digest) in enumerate(group):
            anchors = state.issuer_anchors(p.header.issuer_id, digest)
            address = anchors[0].key if len(anchors) == 1 else None  # anchored by several keys: any may have signed
            key = None if address is None else self._keys.get(address)
            if address is None or key is None:  # recovered on its own (its key learnt)
                found[i] = self._recover(state, p.signature, hashes[i])
            else:
                expected.append((i, key, address))
        if not expected:
            return found
        positions = [i for i, _, _ in expected]
        signatures = [group[i][0].signature for i in positions]
        if signatures_agree([hashes[i] for i in positions], signatures, [key for _, key, _ in expected]):
            for i, _, address in expected:
                found[i] = address
        else:
            for i, signature in zip(positions, signatures, strict=True):
                found[i] = self._recover(state, signature, hashes[i])
        return found

    def _recover(self, state: ChainState, signature: bytes, message_hash: bytes) -> str | None:
        """The signer recovered on its own; its public key is remembered when it is a registered key."""
        key = recover_key(message_hash, signature)
        if key is None:
            return None
        address = key_address(key)
        if address not in self._keys and state.key(address) is not None:
            with self._lock:
                while len(self._keys) >= MAX_REMEMBERED:  # the oldest learnt goes first
                    self._keys.pop(next(iter(self._keys)))
                self._keys[address] = key
        return address
