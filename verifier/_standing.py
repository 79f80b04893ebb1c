"""A license's standing once the chain vouches for it (anchored by its issuer with a key valid at
that time): the type permission then, the co-approval its type needs, its status on chain, and its
validity window against today's date. The verification pipeline and the bundle check share it."""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass

from registry.chain.records import Anchor, Issuer, Status
from registry.document._accel import frozen
from registry.document.license import LicenseHeader
from registry.document.licensetypes import from_day_number
from registry.document.schema import LicenseType
from verifier._coapproval import co_approval_reason, evaluate_co_approval
from verifier.results import CHINA_TZ, CoApproval, Outcome, Reason
from verifier.state import ChainState

__all__ = ["Standing", "chain_standing", "standing"]

_ON_CHAIN = Reason("valid", "链上记录正常", "in order on chain")


@dataclass(frozen=True, slots=True)
class Standing:
    outcome: Outcome
    reason: Reason
    co_approval: CoApproval | None = None
    replacement: bytes | None = None
    anchor: Anchor | None = None  # the anchor the failing step judged, when it is not to be trusted


def chain_standing(state: ChainState, issuer: Issuer, ltype: LicenseType, digest: bytes, *, anchor: Anchor) -> Standing:
    """The steps after anchoring that the chain alone decides: the type permitted when anchored,
    the co-approval the type needs, the status on chain; ``valid`` (with the co-approval) when all
    pass, the first failing one otherwise."""
    permission = state.type_permission(issuer.issuer_id, ltype.type_id, anchor.timestamp)
    if permission is None or not permission.contains(anchor.timestamp):
        return Standing(
            Outcome.TYPE_NOT_PERMITTED,
            Reason(
                "type_not_permitted",
                f"{issuer.name} 在签发时无权签发{ltype.zh}",
                f"{issuer.name} was not permitted to issue {ltype.en.lower()}s when this one was anchored",
            ),
        )
    co_approval = evaluate_co_approval(
        state, issuer.region, ltype.type_id, issuer.issuer_id, digest, at=anchor.timestamp
    )
    if co_approval is not None and co_approval.missing:
        return Standing(Outcome.CO_APPROVAL_MISSING, co_approval_reason(co_approval, ltype), co_approval)
    status = state.status(issuer.issuer_id, digest)
    if status.status is Status.REVOKED:
        return Standing(
            Outcome.REVOKED,
            Reason("revoked", f"已被发证机关吊销（原因代码 {status.reason}）", f"revoked (reason {status.reason})"),
            co_approval,
        )
    if status.status is Status.SUPERSEDED:
        return Standing(
            Outcome.SUPERSEDED,
            Reason(
                "superseded",
                "该证照已变更，已被新版本替代，请出示最新版本",
                "this license was amended and replaced by a newer version; ask for the current one",
            ),
            co_approval,
            status.replacement,
        )
    if status.status is Status.SUSPENDED:
        return Standing(
            Outcome.SUSPENDED,
            Reason("suspended", f"已被暂停（原因代码 {status.reason}）", f"suspended (reason {status.reason})"),
            co_approval,
        )
    return frozen(Standing, Outcome.VALID, _ON_CHAIN, co_approval, None, None)  # every field, in order


def standing(
    state: ChainState, issuer: Issuer, header: LicenseHeader, digest: bytes, *, anchor: Anchor, checked_at: float
) -> Standing:
    """The outcome of the steps after anchoring, the first failing one deciding."""
    found = chain_standing(state, issuer, header.license_type, digest, anchor=anchor)
    if found.outcome is not Outcome.VALID:
        return found
    co_approval = found.co_approval
    position = header.is_current(_today(checked_at))
    if position < 0:
        start = from_day_number(header.valid_from).isoformat()
        return Standing(
            Outcome.NOT_YET_VALID, Reason("not_yet_valid", f"自 {start} 起生效", f"valid from {start}"), co_approval
        )
    if position > 0:
        end = from_day_number(header.valid_to or 0).isoformat()
        return Standing(
            Outcome.EXPIRED, Reason("expired", f"有效期至 {end}，已过期", f"expired: valid until {end}"), co_approval
        )
    return frozen(Standing, Outcome.VALID, _valid(issuer.name), co_approval, None, None)


_LAST_DAY: tuple[float, dt.date] = (0.0, dt.date(1970, 1, 1))


def _today(checked_at: float) -> dt.date:
    """Today's date in China Standard Time at ``checked_at``; the last one is kept (a batch's
    licenses are checked at one time)."""
    global _LAST_DAY  # noqa: PLW0603 - one (time, date) pair, replaced whole
    at, day = _LAST_DAY
    if at != checked_at:
        day = dt.datetime.fromtimestamp(checked_at, CHINA_TZ).date()
        _LAST_DAY = (checked_at, day)
    return day


@functools.lru_cache(maxsize=1024)
def _valid(issuer_name: str) -> Reason:
    # the same few issuers' names (registered on chain) over and over; a Reason is immutable
    return Reason(
        "valid",
        f"由{issuer_name}签发，已上链存证，状态正常，在有效期内",
        f"issued by {issuer_name}, anchored on chain, in force and within its validity period",
    )
