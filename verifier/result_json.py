"""A license's verification result as JSON bytes, written straight from the result.

The bytes are exactly ``orjson.dumps`` of the service's answer, ``{"kind": "license",
**result.to_dict(), "stale": ...}`` with the stale reason appended to ``reasons`` when the mirror
is stale: the same keys in the same order, the same escaping and number forms (every scalar is
written by orjson itself). What is faster is what is not redone: most of a result does not change
from one license to the next (the headline, the reasons, the license type, each field's labels,
the issuer, the batch anchor, the chain's freshness within one batch), so those parts are written
once and kept, in bounded memos, and a result is mostly a join of bytes already made. A batch of
ten thousand licenses no longer builds and walks ten thousand nested dicts.

``tests/test_result_json.py`` checks the bytes against the dict path on the demo's cases and on
results Hypothesis generates.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Hashable
from typing import Any, Generic, TypeVar

import orjson

from registry.document._accel import COMPILED
from verifier.results import CHINA_TZ, HEADLINES, VerificationResult

__all__ = ["MEMOS", "MEMO_LIMIT", "license_json", "python_license_json"]

log = logging.getLogger("elicense.speedups")

K = TypeVar("K", bound=Hashable)

#: Most entries a memo keeps; past it, it starts again (a stream of crafted inputs cannot grow it).
MEMO_LIMIT = 4096

_STATUS_HEAD = {
    o: b'{"kind":"license","status":' + orjson.dumps(o.value) + b',"headline":' + orjson.dumps({"zh": zh, "en": en})
    for o, (zh, en) in HEADLINES.items()
}
_dumps = orjson.dumps


class _Memo(Generic[K]):
    """``make(*key)``'s bytes, kept for keys seen before (at most ``MEMO_LIMIT`` of them)."""

    __slots__ = ("kept", "make")

    def __init__(self, make: Callable[..., bytes]) -> None:
        self.kept: dict[K, bytes] = {}
        self.make = make

    def __call__(self, key: K) -> bytes:
        made = self.kept.get(key)
        if made is None:
            made = self.make(*key)  # type: ignore[misc]
            if len(self.kept) >= MEMO_LIMIT:
                self.kept.clear()
            self.kept[key] = made
        return made


def _reason(code: str, zh: str, en: str) -> bytes:
    return _dumps({"code": code, "zh": zh, "en": en})


def _license_type(code: str, name: tuple[str, str] | None) -> bytes:
    return _dumps({"code": code, "zh": name[0], "en": name[1]} if name else {"code": code})


def _field_head(key: str, zh: str, en: str) -> bytes:
    return b'{"key":' + _dumps(key) + b',"label":' + _dumps({"zh": zh, "en": en}) + b',"value":'


def _issuer(uscc: str | None, name: str | None, region: int | None, region_name: str | None) -> bytes:
    return _dumps({"uscc": uscc, "name": name, "region": region, "region_name": region_name})


def _anchor(root: bytes, timestamp: int, block_number: int) -> bytes:
    return _dumps(
        {
            "root": "0x" + root.hex(),
            "time": timestamp,
            "time_iso": dt.datetime.fromtimestamp(timestamp, CHINA_TZ).isoformat(),
            "block_number": block_number,
        }
    )


def _chain(block_number: int, block_time: int, synced_at: float, checked_at: float, *_types: type) -> bytes:
    reference = synced_at or block_time  # Freshness.age, at the result's time
    return _dumps(
        {
            "block_number": block_number,
            "block_time": block_time,
            "synced_at": round(synced_at, 1) if synced_at else None,
            "age_seconds": round(max(0.0, checked_at - reference), 1),
        }
    )


def _date(value: dt.date | None) -> bytes:
    return b"null" if value is None else b'"' + value.isoformat().encode() + b'"'


def _hex(value: bytes | None) -> bytes:
    return b"null" if value is None else b'"0x' + value.hex().encode() + b'"'


#: The memos, by part: what each is keyed by is what its part is written from.
MEMOS: dict[str, _Memo[Any]] = {
    "reason": _Memo(_reason),  # (code, zh, en)
    "license_type": _Memo(_license_type),  # (code, (zh, en) or None)
    "field": _Memo(_field_head),  # (key, label zh, label en)
    "issuer": _Memo(_issuer),  # (uscc, name, region, region name)
    "anchor": _Memo(_anchor),  # (root, time, block number)
    # (block number, block time, synced at, checked at, and the types of the last two: 5 and 5.0
    # are one key, yet orjson writes them differently)
    "chain": _Memo(_chain),
}
_reasons, _types, _field_heads, _issuers, _anchors, _chains = MEMOS.values()


def python_license_json(result: VerificationResult, stale: dict[str, str] | None = None) -> bytes:
    """The service's JSON answer for a license's ``result``; ``stale`` is the stale-mirror reason
    (``api.batch.stale_reason``), ``None`` while the mirror is fresh. The reference of the
    compiled twin (``verifier/_speedups.pyx``)."""
    return b"".join((*_opening(result, stale), *_fields(result), *_closing(result, stale)))


def _opening(result: VerificationResult, stale: dict[str, str] | None) -> list[bytes]:
    reasons = [_reasons((r.code, r.zh, r.en)) for r in result.reasons]
    if stale is not None:
        reasons.append(_dumps(stale))
    code = result.license_type
    return [
        _STATUS_HEAD[result.status],
        b',"reasons":[',
        b",".join(reasons),
        b'],"license_id":',
        _dumps(result.license_id),
        b',"license_type":',
        b"null" if code is None else _types((code, result.license_type_name)),
        b',"valid_from":',
        _date(result.valid_from),
        b',"valid_to":',
        _date(result.valid_to),
    ]


def _fields(result: VerificationResult) -> list[bytes]:
    fields = [
        _field_heads((f.key, f.label_zh, f.label_en))
        + _dumps(f.value)
        + b',"display":{"zh":'
        + _dumps(f.display_zh)
        + b',"en":'
        + _dumps(f.display_en)
        + b"}}"
        for f in result.disclosed
    ]
    return [b',"disclosed":[', b",".join(fields), b'],"hidden_fields":', _dumps(result.hidden_fields)]


def _closing(result: VerificationResult, stale: dict[str, str] | None) -> list[bytes]:
    issuer, anchor, chain = result.issuer, result.anchor, result.chain
    if issuer is not None:
        issuer_part = _issuers((result.issuer_uscc, issuer.name, issuer.region, issuer.region_name))
    else:
        issuer_part = b"null" if result.issuer_uscc is None else _issuers((result.issuer_uscc, None, None, None))
    if chain is None:
        chain_part = b"null"
    else:
        synced_at, checked_at = chain.synced_at, result.checked_at
        chain_part = _chains(
            (chain.block_number, chain.block_time, synced_at, checked_at, type(synced_at), type(checked_at))
        )
    return [
        b',"issuer":',
        issuer_part,
        b',"anchor":',
        b"null" if anchor is None else _anchors((anchor.root, anchor.timestamp, anchor.block_number)),
        b',"digest":',
        _hex(result.digest),
        b',"signer":',
        _dumps(result.signer),
        b',"suite":',
        b"null" if result.suite is None else _dumps(result.suite.value),
        b',"certificate_subject":',
        _dumps(result.certificate_subject),
        b',"replacement":',
        _hex(result.replacement),
        b',"co_approval":',
        b"null" if result.co_approval is None else _dumps(result.co_approval.to_dict()),
        b',"chain":',
        chain_part,
        b',"checked_at":',
        _dumps(int(result.checked_at)),
        b',"stale":true}' if stale is not None else b',"stale":false}',
    ]


def _compiled() -> Callable[[VerificationResult, dict[str, str] | None], bytes] | None:
    if not COMPILED:  # ELICENSE_PURE_PYTHON=1, or the install built nothing
        return None
    try:
        from verifier import _speedups  # noqa: PLC0415 - optional compiled module
    except ImportError as exc:
        log.warning("the compiled result writer is not available (%s); using the pure-Python one", exc)
        return None
    _speedups.configure(_STATUS_HEAD, MEMOS, MEMO_LIMIT)
    return _speedups.license_json


#: :func:`python_license_json`, compiled where the install built it.
license_json: Callable[[VerificationResult, dict[str, str] | None], bytes] = _compiled() or python_license_json
