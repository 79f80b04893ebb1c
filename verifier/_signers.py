"""The signers of a group of secp256k1 licenses, found together rather than one recovery each (the
batch endpoint's groups, :meth:`verifier.pipeline.Verifier.check_many`).

A recovery is the one step of a verification no license can skip, about half of its cost. A
department signs thousands of licenses with the same key, so a group's signers are mostly known in
advance: the key each issuer's last license recovered to. One batch check
(:func:`signer.signatures_agree`, a randomly weighted sum over the whole group) then confirms that
every signature recovers to the key expected of it, a few times cheaper per license than
recovering each. The answer is the same as recovering: the check passes only when each signature
recovers to exactly that key, and its signer is then that key's address.

When it does not pass (a key rotated, a forged or altered license in the group), each signature of
the group is recovered on its own, as without the batch check. The group then costs about a third
more than recovering each from the start, whoever sent the failing license: the worst case is
bounded. An issuer's expected key is learnt only from a recovery that gave a key registered to that
issuer and valid now: a license signed by another issuer's key, or by a key of this issuer that
was rotated, retired or declared compromised (a genuine old license, sent again and again), never
changes what is expected of this one, so nobody can make other callers' groups fail the check.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence

from registry.document.presentation import Presentation
from signer._eip712 import eip712_hash
from signer._secp256k1 import key_address, recover_key, signatures_agree
from verifier.state import ChainState

__all__ = ["MAX_REMEMBERED", "GroupSigners"]

#: Most issuers whose last signing key is remembered (one entry each; all forgotten past it).
MAX_REMEMBERED = 4096


class GroupSigners:
    """Finds the signers of groups of secp256k1 presentations, remembering each issuer's last key."""

    def __init__(self, domain: bytes) -> None:
        self.domain = domain
        self._last: dict[bytes, tuple[bytes, str]] = {}  # issuer id -> (public key, its address)
        self._lock = threading.Lock()

    def find(self, state: ChainState, group: Sequence[tuple[Presentation, bytes]], now: int) -> list[str | None]:
        """The signer of each ``(presentation, digest)`` (secp256k1 suite), as
        :func:`signer.recover_signer` gives it: the checksummed address, or ``None`` when the
        signature is not a canonical one. ``now``: the time keys must be valid at to be learnt."""
        hashes = [eip712_hash(self.domain, digest) for _, digest in group]
        found: list[str | None] = [None] * len(group)
        expected: list[tuple[int, bytes, str]] = []  # (position, key, address)
        for i, (p, _) in enumerate(group):
            last = self._last.get(p.header.issuer_id)
            if last is None:  # the first of its issuer: recovered, and its key learnt
                found[i] = self._recover(state, p, hashes[i], now)
            else:
                expected.append((i, *last))
        if not expected:
            return found
        positions = [i for i, _, _ in expected]
        if signatures_agree(
            [hashes[i] for i in positions], [group[i][0].signature for i in positions], [key for _, key, _ in expected]
        ):
            for i, _, address in expected:
                found[i] = address
        else:
            for i in positions:
                found[i] = self._recover(state, group[i][0], hashes[i], now)
        return found

    def _recover(self, state: ChainState, p: Presentation, message_hash: bytes, now: int) -> str | None:
        """The signer recovered on its own; its key is remembered as its issuer's when registered to
        it and valid ``now``."""
        key = recover_key(message_hash, p.signature)
        if key is None:
            return None
        address = key_address(key)
        record = state.key(address)
        issuer_id = p.header.issuer_id
        if record is not None and record.issuer_id == issuer_id and record.contains(now):
            with self._lock:
                if len(self._last) >= MAX_REMEMBERED and issuer_id not in self._last:
                    self._last.clear()
                self._last[issuer_id] = (key, address)
        return address
