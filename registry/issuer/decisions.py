"""What an application (秒批) comes to: each rule's result with its reasons (zh and en), each
presented license as evidence, the chain block the verifier's state was at, and the license
issued when accepted. Plain data, with the JSON form the API, the CLI and the audit export share."""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass
from typing import Any

from registry.issuer.department import IssueRequest

__all__ = ["ACCEPTED", "REFUSED", "Decision", "PresentedLicense", "RuleResult"]

ACCEPTED = "accepted"
REFUSED = "refused"


def _hex(value: bytes | None) -> str | None:
    return None if value is None else "0x" + value.hex()


def _day(value: dt.date | None) -> str | None:
    return None if value is None else value.isoformat()


@dataclass(frozen=True, slots=True)
class RuleResult:
    """One rule of one prerequisite, checked on one presented license (``presented`` is its
    position among the QR texts; ``None`` when no license was presented for it)."""

    prerequisite: str
    rule: str  # permitted | presented | readable | valid | type | holder | window | region | unused
    passed: bool
    zh: str
    en: str
    presented: int | None = None
    evidence: dict[str, Any] | None = None  # what the rule read on chain (``permitted``: the blocks)

    def to_dict(self) -> dict[str, Any]:
        out = {
            "prerequisite": self.prerequisite,
            "rule": self.rule,
            "passed": self.passed,
            "reason": {"zh": self.zh, "en": self.en},
            "presented": self.presented,
        }
        if self.evidence is not None:
            out["evidence"] = self.evidence
        return out


@dataclass(frozen=True, slots=True)
class PresentedLicense:
    """A presented QR text and what the verifier answered on it: the evidence of a decision."""

    index: int
    text: str
    status: str  # the verification outcome (valid, revoked, malformed, ...)
    checked_block: int  # the chain block the verifier's state was at when it checked it
    digest: bytes | None = None
    license_id: str | None = None
    license_type: str | None = None
    issuer_uscc: str | None = None
    issuer_region: int | None = None
    valid_from: dt.date | None = None
    valid_to: dt.date | None = None
    anchor_block: int | None = None
    filled: tuple[str, ...] = ()  # the prerequisites it was matched to

    def to_dict(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "status": self.status,
            "digest": _hex(self.digest),
            "license_id": self.license_id,
            "license_type": self.license_type,
            "issuer_uscc": self.issuer_uscc,
            "issuer_region": self.issuer_region,
            "valid_from": _day(self.valid_from),
            "valid_to": _day(self.valid_to),
            "anchor_block": self.anchor_block,
            "checked_block": self.checked_block,
            "filled": list(self.filled),
            "text": self.text,
        }


@dataclass(frozen=True)
class Decision:
    """An application's decision: accepted when every rule passed (then ``license_id`` and
    ``digest`` name the license issued at once), refused otherwise."""

    decision_id: str
    issuer_uscc: str
    request: IssueRequest
    rules: tuple[RuleResult, ...]
    presented: tuple[PresentedLicense, ...]
    block_number: int
    block_hash: bytes
    block_time: int
    decided_at: float  # UNIX seconds
    license_id: str | None = None
    digest: bytes | None = None

    @property
    def accepted(self) -> bool:
        return all(r.passed for r in self.rules)

    @property
    def outcome(self) -> str:
        return ACCEPTED if self.accepted else REFUSED

    @property
    def failed(self) -> tuple[RuleResult, ...]:
        return tuple(r for r in self.rules if not r.passed)

    def checked(self, rule: RuleResult) -> Decision:
        """This decision with ``rule`` checked before the others (the department's own standing)."""
        return dataclasses.replace(self, rules=(rule, *self.rules))

    def issued(self, license_id: str, digest: bytes) -> Decision:
        return dataclasses.replace(self, license_id=license_id, digest=digest)

    def to_dict(self, *, texts: bool = True) -> dict[str, Any]:
        """JSON-ready form (bytes as 0x-hex, dates ISO); without the QR texts unless ``texts``."""
        presented = [p.to_dict() for p in self.presented]
        if not texts:
            for p in presented:
                p.pop("text")
        return {
            "decision_id": self.decision_id,
            "outcome": self.outcome,
            "issuer_uscc": self.issuer_uscc,
            "request": self.request.to_dict(),
            "rules": [r.to_dict() for r in self.rules],
            "presented": presented,
            "chain": {
                "block_number": self.block_number,
                "block_hash": _hex(self.block_hash) if self.block_hash else None,
                "block_time": self.block_time,
            },
            "decided_at": round(self.decided_at, 3),
            "license_id": self.license_id,
            "digest": _hex(self.digest),
        }
