"""The deciding department's own standing, read on chain before an application is signed (秒批).

A department deciding an application must be permitted, on chain, to issue the license type it is
asked for, at the moment of the decision: the trust registry must hold it registered and active,
its signing key valid now (``isKeyValid``), and the type permitted now (``mayIssue``). A license
signed without that would verify as ``type_not_permitted`` or ``key_not_valid`` at every counter.

Which chain state: both of two, and the stricter wins (the project's rule for facts, fail closed).

- **The head** (the chain's latest block): a negative fact (the department deactivated, its key
  retired or compromised, its permission ended or shortened) counts from the block it is in, as
  the verifier applies negative facts from the head.
- **The confirmed block** the verifier's state (the mirror) was at, the block the prerequisites were
  checked on: a positive fact (the permission granted, the key added, the department registered)
  counts only once it is as deep as the confirmation depth, so a grant that a reorganisation can
  still undo does not yet let the department sign. The confirmed block must still be on the chain
  with the hash the state recorded; otherwise the decision is refused as ``reorganised``.

The evidence kept with the decision: the time checked, both blocks' numbers and hashes, and what
failed. Reading the chain is not optional: a chain that cannot be read raises
:class:`~registry.errors.ChainUnavailableError` and nothing is decided or recorded.
"""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass
from typing import Any, Protocol

from registry.chain.records import Issuer, TypePermission
from registry.document.catalog import get_type
from registry.document.schema import LicenseType
from registry.errors import ConfigurationError
from registry.issuer.decisions import RuleResult

__all__ = ["Standing", "check_standing"]

_CST = dt.timezone(dt.timedelta(hours=8))


class _Chain(Protocol):
    """What the check reads of a :class:`registry.RegistryClient` (hashable: answers are cached per client)."""

    def __hash__(self) -> int: ...

    def block_ref(self, block: int | None = None) -> tuple[int, bytes, int]: ...
    def get_issuer(self, issuer_id: bytes, *, block: int | None = None) -> Issuer | None: ...
    def is_key_valid(self, issuer_id: bytes, key: str, at: int, *, block: int | None = None) -> bool: ...
    def may_issue(self, issuer_id: bytes, license_type: bytes, at: int, *, block: int | None = None) -> bool: ...
    def get_type_permission(
        self, issuer_id: bytes, license_type: bytes, *, block: int | None = None
    ) -> TypePermission | None: ...


@dataclass(frozen=True, slots=True)
class Standing:
    """The department's standing for one license type at ``at`` (UNIX seconds), on chain: ``code``
    is ``permitted`` or what failed (``unregistered``, ``inactive``, ``key_not_valid``,
    ``never_permitted``, ``not_yet_permitted``, ``permission_expired``, ``not_confirmed``,
    ``reorganised``)."""

    code: str
    zh: str
    en: str
    at: int
    head_block: int
    head_hash: bytes
    confirmed_block: int
    confirmed_hash: bytes

    @property
    def permitted(self) -> bool:
        return self.code == "permitted"

    def evidence(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "at": self.at,
            "head": {"block_number": self.head_block, "block_hash": "0x" + self.head_hash.hex()},
            "confirmed": {"block_number": self.confirmed_block, "block_hash": "0x" + self.confirmed_hash.hex()},
        }

    def rule(self) -> RuleResult:
        """The ``permitted`` rule of the decision, with this standing as its evidence."""
        return RuleResult("-", "permitted", self.permitted, self.zh, self.en, None, self.evidence())


def _day(ts: int) -> str:
    return dt.datetime.fromtimestamp(min(ts, 253402300799), _CST).strftime("%Y-%m-%d %H:%M")


@functools.lru_cache(maxsize=4096)
def _problem(
    chain: _Chain, *, block_hash: bytes, issuer_id: bytes, key: str, type_code: str, at: int, block: int
) -> tuple[str, str, str] | None:
    """What keeps the department from issuing ``type_code`` at ``at`` on the state after ``block``
    (code, zh, en), or None. A block's state never changes, so the answer is kept per block hash
    (the views cost a few milliseconds each on the in-process chain); a chain error is not kept."""
    ltype = get_type(type_code)
    issuer = chain.get_issuer(issuer_id, block=block)
    if issuer is None:
        return "unregistered", "本部门未在信任登记簿中登记", "this department is not registered in the trust registry"
    if not issuer.active:
        return "inactive", "本部门已被停用，不能签发证照", "this department has been deactivated and cannot issue"
    if not chain.is_key_valid(issuer_id, key, at, block=block):
        return (
            "key_not_valid",
            f"本部门的签名密钥 {key} 当前无效（未登记、已停用或已失效）",
            f"this department's signing key {key} is not valid now (not registered, retired or compromised)",
        )
    if chain.may_issue(issuer_id, ltype.type_id, at, block=block):
        return None
    window = chain.get_type_permission(issuer_id, ltype.type_id, block=block)
    if window is None:
        return (
            "never_permitted",
            f"本部门未获准签发{ltype.zh}",
            f"this department has never been permitted to issue {ltype.en.lower()}s",
        )
    if at < window.valid_from:
        return (
            "not_yet_permitted",
            f"本部门签发{ltype.zh}的资格自 {_day(window.valid_from)} 起生效，尚未生效",
            f"this department's permission for {ltype.en.lower()}s starts at {_day(window.valid_from)} (UTC+8); "
            "it is not in force yet",
        )
    return (
        "permission_expired",
        f"本部门签发{ltype.zh}的资格已于 {_day(window.valid_until)} 终止",
        f"this department's permission for {ltype.en.lower()}s ended at {_day(window.valid_until)} (UTC+8)",
    )


def check_standing(
    chain: _Chain | None,
    *,
    issuer_id: bytes,
    key: str,
    license_type: LicenseType,
    at: int,
    confirmed_block: int,
    confirmed_hash: bytes,
) -> Standing:
    """The department's standing for ``license_type`` at ``at`` (the decision's time; the head
    block's time when that is later, since the license is anchored after the head), read at the
    chain's head and at ``confirmed_block`` (the verifier state's block; ``confirmed_hash`` its hash,
    empty when not known). Raises :class:`ConfigurationError` without a chain, and the chain errors when it
    cannot be read."""
    if chain is None:
        raise ConfigurationError(
            "deciding an application needs the chain: configure the department with a chain client (--rpc-url)"
        )
    head_block, head_hash, head_time = chain.block_ref()
    at = max(at, head_time)  # the license is anchored after the head: never judge it at an earlier time

    def standing(code: str, zh: str, en: str, block: int = confirmed_block, digest: bytes = confirmed_hash) -> Standing:
        return Standing(code, zh, en, at, head_block, head_hash, block, digest)

    if confirmed_block > head_block:
        return standing(
            "reorganised",
            f"链上状态已变化（最新区块 {head_block} 早于已确认区块 {confirmed_block}），请稍后重试",
            f"the chain changed (its head {head_block} is below the confirmed block {confirmed_block}); "
            "try again later",
        )
    on_chain = head_hash if confirmed_block == head_block else chain.block_ref(confirmed_block)[1]
    if confirmed_hash and on_chain != confirmed_hash:
        return standing(
            "reorganised",
            f"已确认区块 {confirmed_block} 已被链重组替换，请待同步后重试",
            f"the confirmed block {confirmed_block} was reorganised away; try again once the state has caught up",
            digest=on_chain,
        )
    facts = {"issuer_id": issuer_id, "key": key, "type_code": license_type.code, "at": at}
    head = _problem(chain, block_hash=head_hash, block=head_block, **facts)
    if head is not None:
        return standing(*head, digest=on_chain)
    confirmed = _problem(chain, block_hash=on_chain, block=confirmed_block, **facts)
    if confirmed is not None:
        return standing(
            "not_confirmed",
            f"本部门的资格在最新区块中成立，但在已确认区块 {confirmed_block} 尚未成立"
            f"（{confirmed[1]}），请待确认后重试",
            f"this department's standing holds at the head but not yet at the confirmed block {confirmed_block} "
            f"({confirmed[2]}); try again once it is confirmed",
            digest=on_chain,
        )
    return standing(
        "permitted",
        f"本部门现获准签发{license_type.zh}（链上核实：已登记、有效、密钥有效）",
        f"this department is permitted to issue {license_type.en.lower()}s now "
        "(on chain: registered, active, key valid)",
        digest=on_chain,
    )
