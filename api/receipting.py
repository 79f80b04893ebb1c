"""Receipts of verification (无证明): the service's signing identity, read from the keystore the
settings name, and the signing of a result against the mirror's state (docs/receipts.md).

A receipt names the block the mirror's index was at when it answered (its confirmed checkpoint,
whose hash the mirror stored) and the head block whose negative facts were applied. The checkpoint
and the head block are read before and after the answer; when a sync moved either in between, the
answer is made again.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import orjson

from api.errors import MirrorStaleError, NoReceiptKeyError
from api.settings import Settings
from registry import Deployment
from signer import PasswordSource
from verifier.mirror import Mirror
from verifier.receipts import VerifierIdentity, issue_receipt

__all__ = ["ReceiptDesk", "load_receipt_identity"]

log = logging.getLogger("elicense.service")

_ATTEMPTS = 5


def key_path(settings: Settings, name: str) -> Path:
    """A receipt keystore given as a name under HOME/keys or as a file path."""
    if "/" in name or name.endswith(".json"):
        return Path(name)
    return settings.home / "keys" / f"{name}.json"


def load_receipt_identity(settings: Settings) -> VerifierIdentity | None:
    """The identity ``ELICENSE_RECEIPT_KEY`` names (None when none is configured)."""
    if not settings.receipt_key:
        return None
    path = key_path(settings, settings.receipt_key)
    file = settings.receipt_key_password_file  # a password file, when given, wins over the variable
    source = PasswordSource(env=None if file else settings.receipt_key_password_env, file=file)
    identity = VerifierIdentity.load(path, source.read(purpose=f"receipt key {path}"))
    log.info("receipts are signed as %s (key %s)", identity.service_id, identity.public.fingerprint)
    return identity


class ReceiptDesk:
    """Signs receipts of the service's answers with its identity (None: receipts are refused)."""

    def __init__(self, identity: VerifierIdentity | None, mirror: Mirror, deployment: Deployment) -> None:
        self.identity = identity
        self.mirror = mirror
        self.deployment = deployment

    def _identity(self) -> VerifierIdentity:
        if self.identity is None:
            raise NoReceiptKeyError(
                "this service has no receipt signing identity: create one with `elicense receipt key create NAME "
                "--service-id ID` and start the service with ELICENSE_RECEIPT_KEY=NAME (and its password in "
                "ELICENSE_RECEIPT_KEY_PASSWORD or ELICENSE_RECEIPT_KEY_PASSWORD_FILE)"
            )
        return self.identity

    def answer(self, verify: Callable[[str], dict[str, Any]], text: str) -> dict[str, Any]:
        """``verify(text)`` with its signed receipt as ``receipt``."""
        identity = self._identity()
        for _ in range(_ATTEMPTS):
            point = self.mirror.checkpoint()
            if point is None:
                raise MirrorStaleError("the chain mirror has not been synced yet: no block to sign a receipt against")
            head = self.mirror.index.pending_block
            result = verify(text)
            chain = result.get("chain") or {}
            settled = self.mirror.checkpoint() == point and self.mirror.index.pending_block == head
            if chain.get("block_number") == point[0] and settled:
                result["receipt"] = issue_receipt(
                    result,
                    identity,
                    chain_id=self.deployment.chain_id,
                    registry=self.deployment.license_registry,
                    block_number=point[0],
                    block_hash=point[1],
                    head_block=max(point[0], head),
                    now=time.time(),
                )
                return result
        raise MirrorStaleError("the chain mirror kept moving while the receipt was made; try again")

    def answer_many(self, verify: Callable[[str], dict[str, Any]], texts: Sequence[str]) -> list[bytes]:
        """Each text's result with its receipt, as one group of JSON array items."""
        self._identity()
        return [b",".join(orjson.dumps(self.answer(verify, text)) for text in texts)]
