"""Evaluating an application's prerequisites (秒批) with the verifier a counter would use.

:func:`evaluate_application` verifies every presented QR text with the given verifier (so against
the same chain state), matches the presented licenses to the prerequisites the new license's type
declares (:mod:`registry.document.prerequisites`), and checks each prerequisite's rules:

``presented`` a license was presented for it; ``readable`` its QR text decodes; ``valid`` the
verifier answers valid; ``type`` its type is one the prerequisite accepts; ``holder`` the same
holder (a field of the new license equals a field of the prerequisite, which must be disclosed);
``window`` its validity window covers the new license's first valid day; ``region`` its issuer is
registered where the prerequisite allows, relative to the deciding department's region.

A license whose content the chain does not vouch for (tampered, unknown issuer, not anchored, key
not valid) is judged on ``valid`` alone. Every presented text must fill a prerequisite: one that
fills none is refused (``unused``). No input raises: a malformed text is a refused rule. The
verifier is any object with the shape of :class:`verifier.Verifier` (this layer does not import it).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import time
import uuid
from collections.abc import Sequence
from typing import Protocol

from registry.chain.records import Anchor, Issuer
from registry.document.catalog import get_type
from registry.document.identifiers import FieldValueError, issuer_id_from_uscc, validate_uscc
from registry.document.prerequisites import Prerequisite, prerequisites_of
from registry.document.schema import LicenseType, day_number
from registry.issuer.decisions import Decision, PresentedLicense, RuleResult
from registry.issuer.department import IssueRequest

__all__ = ["MAX_PREREQUISITE_TEXTS", "MAX_PREREQUISITE_TEXT_LENGTH", "Verifying", "evaluate_application"]

#: QR texts an application may present, and the characters of each (the decoder refuses beyond 1,400).
MAX_PREREQUISITE_TEXTS = 8
MAX_PREREQUISITE_TEXT_LENGTH = 4096

#: Outcomes whose content (fields, window, issuer) the chain vouches for.
_VOUCHED = frozenset(
    {
        "valid",
        "type_not_permitted",
        "co_approval_missing",
        "revoked",
        "suspended",
        "superseded",
        "expired",
        "not_yet_valid",
    }
)


class _Point(Protocol):
    @property
    def block_number(self) -> int: ...
    @property
    def block_time(self) -> int: ...
    @property
    def block_hash(self) -> bytes: ...


class _Reason(Protocol):
    @property
    def zh(self) -> str: ...
    @property
    def en(self) -> str: ...


class _Field(Protocol):
    @property
    def key(self) -> str: ...
    @property
    def value(self) -> str | int: ...


class _Result(Protocol):
    @property
    def status(self) -> str: ...
    @property
    def reasons(self) -> Sequence[_Reason]: ...
    @property
    def chain(self) -> _Point | None: ...
    @property
    def license_id(self) -> str | None: ...
    @property
    def license_type(self) -> str | None: ...
    @property
    def valid_from(self) -> dt.date | None: ...
    @property
    def valid_to(self) -> dt.date | None: ...
    @property
    def disclosed(self) -> Sequence[_Field]: ...
    @property
    def issuer(self) -> Issuer | None: ...
    @property
    def issuer_uscc(self) -> str | None: ...
    @property
    def anchor(self) -> Anchor | None: ...
    @property
    def digest(self) -> bytes | None: ...


class _State(Protocol):
    def issuer(self, issuer_id: bytes) -> Issuer | None: ...
    def freshness(self) -> _Point: ...


class Verifying(Protocol):
    """What evaluation needs of a verifier: :class:`verifier.Verifier` has this shape."""

    @property
    def state(self) -> _State: ...
    def verify(self, text: object, *, now: float | None = None) -> _Result: ...


def _rule(p: Prerequisite, rule: str, ok: bool, zh: str, en: str, *, at: int | None) -> RuleResult:
    return RuleResult(p.key, rule, ok, zh, en, at)


@dataclasses.dataclass(frozen=True, slots=True)
class _Application:
    ltype: LicenseType
    fields: dict[str, str | int]
    start: int  # the new license's first valid day (day number)
    department_region: int | None  # the deciding department's registered region


def _rules_for(p: Prerequisite, index: int, result: _Result, app: _Application) -> list[RuleResult]:
    """The rules of ``p`` checked on the license at ``index``, in the order they are reported."""
    if result.status == "malformed":
        detail = result.reasons[0] if result.reasons else None
        return [
            _rule(
                p,
                "readable",
                False,
                f"第 {index + 1} 个二维码不是有效的电子证照" + (f"：{detail.zh}" if detail else ""),
                f"QR text #{index + 1} is not a readable e-license" + (f": {detail.en}" if detail else ""),
                at=index,
            )
        ]
    zh_reasons = "；".join(r.zh for r in result.reasons)
    en_reasons = "; ".join(r.en for r in result.reasons)
    valid = result.status == "valid"
    out = [
        _rule(
            p,
            "valid",
            valid,
            f"{p.zh}（{result.license_id}）核验有效"
            if valid
            else f"{p.zh}（{result.license_id}）核验未通过：{zh_reasons}",
            f"{p.en} {result.license_id} verifies as valid"
            if valid
            else f"{p.en} {result.license_id} does not verify as valid ({result.status}): {en_reasons}",
            at=index,
        )
    ]
    if result.status not in _VOUCHED:
        return out  # nothing else it claims is vouched for by the chain
    code = result.license_type or "?"
    type_ok = code in p.types
    out.append(
        _rule(
            p,
            "type",
            type_ok,
            f"证照类型 {code}" + ("符合要求" if type_ok else f"不符，需要 {'/'.join(p.types)}"),
            f"license type {code} " + ("is accepted" if type_ok else f"is not accepted; expected {'/'.join(p.types)}"),
            at=index,
        )
    )
    if not type_ok:
        return out
    disclosed = {f.key: f.value for f in result.disclosed}
    for match in p.holder:
        wanted = app.fields.get(match.field)
        label = f"{app.ltype.by_key[match.field].zh}（{match.field}）"
        if match.prerequisite_field not in disclosed:
            ok, zh, en = (
                False,
                f"二维码未披露 {match.prerequisite_field}，无法核对{label}",
                f"the QR code does not disclose {match.prerequisite_field}, so {match.field} cannot be compared",
            )
        elif wanted is not None and disclosed[match.prerequisite_field] == wanted:
            ok, zh, en = True, f"持证主体一致：{label}相同", f"same holder: {match.field} matches"
        else:
            ok, zh, en = (
                False,
                f"持证主体不一致：{p.zh}的 {match.prerequisite_field} 与申请的{label}不同",
                f"another holder: the {p.en.lower()}'s {match.prerequisite_field} differs from the application's "
                f"{match.field}",
            )
        out.append(_rule(p, "holder", ok, zh, en, at=index))
    out.append(_window_rule(p, index, result, app.start))
    if p.region.value != "any":
        out.append(_region_rule(p, index, result, app.department_region))
    return out


def _window_rule(p: Prerequisite, index: int, result: _Result, start: int) -> RuleResult:
    begin = None if result.valid_from is None else day_number(result.valid_from)
    end = None if result.valid_to is None else day_number(result.valid_to)
    ok = begin is not None and begin <= start and (end is None or end >= start)
    window = f"{result.valid_from} – {result.valid_to or '长期'}"
    return _rule(
        p,
        "window",
        ok,
        f"有效期（{window}）" + ("覆盖" if ok else "未覆盖") + "新证照的生效日",
        f"its validity ({result.valid_from} to {result.valid_to or 'open-ended'}) "
        + ("covers" if ok else "does not cover")
        + " the new license's first valid day",
        at=index,
    )


def _region_rule(p: Prerequisite, index: int, result: _Result, department_region: int | None) -> RuleResult:
    region = result.issuer.region if result.issuer is not None else None
    if department_region is None:
        return _rule(
            p,
            "region",
            False,
            "作出决定的部门未在信任登记簿中登记，无法核对地区",
            "the deciding department is not registered in the trust registry, so the region cannot be checked",
            at=index,
        )
    ok = region is not None and p.region.contains(region, department_region)
    return _rule(
        p,
        "region",
        ok,
        f"发证机关所在地区（{region}）" + ("符合" if ok else "不符合") + f"要求：{p.region.zh}",
        f"the issuer's region ({region}) " + ("meets" if ok else "does not meet") + f" the constraint: {p.region.en}",
        at=index,
    )


def _evidence(index: int, text: object, result: _Result) -> PresentedLicense:
    anchor = result.anchor
    vouched = result.status in _VOUCHED
    return PresentedLicense(
        index=index,
        text=text[:MAX_PREREQUISITE_TEXT_LENGTH] if isinstance(text, str) else "",
        status=str(result.status),
        checked_block=result.chain.block_number if result.chain is not None else 0,
        digest=result.digest,
        license_id=result.license_id,
        license_type=result.license_type,
        issuer_uscc=result.issuer_uscc,
        issuer_region=result.issuer.region if result.issuer is not None else None,
        valid_from=result.valid_from if vouched else None,
        valid_to=result.valid_to if vouched else None,
        anchor_block=anchor.block_number if anchor is not None else None,
    )


def _score(rules: list[RuleResult]) -> tuple[bool, bool, bool, int]:
    """How well a license fills a prerequisite: all rules passed, then the identity (type, holder),
    then how many rules passed."""
    by = {r.rule: r.passed for r in rules}
    identity = by.get("type", False) and all(r.passed for r in rules if r.rule == "holder")
    return all(by.values()), by.get("type", False), identity, sum(by.values())


def evaluate_application(
    verifier: Verifying,
    request: IssueRequest,
    prerequisite_qr_texts: Sequence[object],
    *,
    issuer_uscc: str,
    now: float | None = None,
) -> Decision:
    """Decide an application for ``request`` by department ``issuer_uscc`` on the presented QR
    texts. Raises :class:`FieldValueError` only for the request itself (unknown type, bad fields,
    dates, too many texts); everything about the prerequisites is a rule's result."""
    department = validate_uscc(issuer_uscc, field="issuer")
    ltype = get_type(request.license_type)
    fields = ltype.canonical_fields(request.fields)
    if request.valid_to is not None and request.valid_to < request.valid_from:
        raise FieldValueError("valid_to", "is before valid_from", "a last valid day on or after the first")
    texts = list(prerequisite_qr_texts)
    if len(texts) > MAX_PREREQUISITE_TEXTS:
        raise FieldValueError("prerequisites", f"{len(texts)} QR texts", f"at most {MAX_PREREQUISITE_TEXTS}")
    decided_at = time.time() if now is None else now
    point = verifier.state.freshness()
    registered = verifier.state.issuer(issuer_id_from_uscc(department))
    department_region = registered.region if registered is not None else None
    app = _Application(ltype, fields, day_number(request.valid_from), department_region)
    results = [verifier.verify(t, now=now) for t in texts]
    evidence = [_evidence(i, t, r) for i, (t, r) in enumerate(zip(texts, results, strict=True))]
    filled: dict[int, list[str]] = {}
    rules: list[RuleResult] = []
    for p in prerequisites_of(ltype.code):
        candidates = [
            ((*_score(found), i not in filled), -i, found)
            for i, r in enumerate(results)
            for found in [_rules_for(p, i, r, app)]
        ]
        if not candidates:
            rules.append(_rule(p, "presented", False, f"未提交{p.zh}", f"no {p.en.lower()} was presented", at=None))
            continue
        _, negative_index, best = max(candidates, key=lambda c: (c[0], c[1]))
        filled.setdefault(-negative_index, []).append(p.key)
        rules.append(
            _rule(p, "presented", True, f"已提交{p.zh}", f"a {p.en.lower()} was presented", at=-negative_index)
        )
        rules.extend(best)
    for i in range(len(texts)):
        if i not in filled:
            rules.append(
                RuleResult(
                    "-",
                    "unused",
                    False,
                    f"第 {i + 1} 个二维码不对应 {ltype.zh} 的任何前置证照，请勿提交",
                    f"QR text #{i + 1} fills no prerequisite of a {ltype.en.lower()}: leave it out",
                    i,
                )
            )
    return Decision(
        decision_id=uuid.uuid4().hex,
        issuer_uscc=department,
        request=request,
        rules=tuple(rules),
        presented=tuple(dataclasses.replace(e, filled=tuple(filled.get(e.index, ()))) for e in evidence),
        block_number=point.block_number,
        block_hash=point.block_hash,
        block_time=point.block_time,
        decided_at=decided_at,
    )
