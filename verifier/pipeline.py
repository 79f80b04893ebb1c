"""The verification pipeline: QR text in, a structured result out.

Steps, in order (the first failing step decides the status)::

    decode (strict, bounded)          -> malformed
    recompute the digest, find the signer: secp256k1: recover it (EIP-712; in a group,
        :meth:`Verifier.check_many`, confirmed together against the anchoring keys: verifier._signers);
        SM2: the candidate account whose bound SM2 key verifies the signature
    the issuer named by the license id is registered           -> unknown_issuer
    the signer is a key of that issuer, in the license's suite -> tampered
    anchored by a key of that issuer (root checks out)         -> not_anchored (key valid now)
                                                                  or key_not_valid (key not valid now)
    anchored with the signing key, inside its validity window  -> key_not_valid
    the issuer was permitted the license type when anchored    -> type_not_permitted
    a co-approval policy in force then is met by a joint anchor -> co_approval_missing
    status on chain                                            -> revoked / superseded / suspended
    validity window against today's date (China Standard Time) -> not_yet_valid / expired
                                                               -> valid

A forged or altered license is one outcome, ``tampered``: whatever was changed, the recovered
signer is then not a key of the issuer (SM2: no candidate key verifies the signature).

SM2 (:class:`~registry.document.suites.SignatureSuite`): the signature names no key, so the
candidates are the accounts that anchored the digest for the issuer, else (not anchored) the
issuer's newest SM2-bound accounts, at most :data:`~verifier._sm2keys.MAX_SM2_CANDIDATES`; the
signer is the account whose bound SM2 key verifies the signature over
``0x1901 || domainSeparator || digest``. One suite per key: a secp256k1 signature recovered to an
account that has an SM2 binding is ``tampered``.

Registry outcomes are ordinary results with reasons. Any input the pipeline cannot handle is
``malformed``: no input raises.

Disclosed fields are shown only when the chain vouches for them: an anchor by the signing key
inside its window. A license signed but not anchored, or signed with a key that was not valid, is
shown without its fields (a thief with a stolen key can sign anything and never anchor it).
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass

from registry.chain.records import Anchor, Issuer
from registry.document._accel import compiled_module, frozen
from registry.document.joint import PREFIX as BUNDLE_PREFIX
from registry.document.joint import decode_bundle
from registry.document.licensetypes import from_day_number
from registry.document.presentation import MalformedPresentationError, Presentation, decode_presentation
from registry.document.suites import SignatureSuite
from signer import domain_separator, recover_signer, verify_sm2_license
from verifier._display import disclosed_fields
from verifier._logbudget import LogBudget
from verifier._signers import GroupSigners
from verifier._standing import standing
from verifier.bundle import BundleResult, check_bundle, malformed_bundle
from verifier.index import Freshness
from verifier.results import CHINA_TZ, HEADLINES, CoApproval, Outcome, Reason, VerificationResult
from verifier.state import ChainState

# the answer's types are in verifier.results; they are imported from here too
__all__ = ["CHINA_TZ", "HEADLINES", "Outcome", "Reason", "VerificationResult", "Verifier", "is_bundle_text"]

log = logging.getLogger("elicense.verifier")
_LOG_BUDGET = LogBudget(log)

_SPEEDUPS = compiled_module()
#: The signer's recovery: compiled (libsecp256k1 called from C, the EIP-712 hash and the address
#: made there too) when built, else :func:`signer.recover_signer`, its reference.
_recover_signer = _SPEEDUPS.recover_signer if _SPEEDUPS is not None and _SPEEDUPS.SECP256K1 else recover_signer

_LAST_DISPLAYABLE = 253402271999  # 9999-12-31 23:59:59 in China Standard Time: later times show as this


#: Outcomes whose disclosed fields the chain vouches for (anchored by the signing key in its window).
_FIELDS_SHOWN = frozenset(
    {
        Outcome.VALID,
        Outcome.TYPE_NOT_PERMITTED,
        Outcome.CO_APPROVAL_MISSING,
        Outcome.REVOKED,
        Outcome.SUSPENDED,
        Outcome.SUPERSEDED,
        Outcome.EXPIRED,
        Outcome.NOT_YET_VALID,
    }
)


def _reason(code: str, zh: str, en: str) -> Reason:
    return Reason(code, zh, en)


def is_bundle_text(text: object) -> bool:
    """Whether ``text`` is read as a joint bundle's QR text (``LB1:``, any case)."""
    return isinstance(text, str) and text[: len(BUNDLE_PREFIX)].upper() == BUNDLE_PREFIX


def _unchecked(checked_at: float, chain: Freshness) -> VerificationResult:
    """The answer when checking a decoded presentation failed unexpectedly (logged, within a budget)."""
    if _LOG_BUDGET.allow():
        log.exception("verification failed on a decoded presentation; answered malformed")
    return _malformed("the presentation could not be checked", checked_at, chain)


def _malformed(detail: str, checked_at: float, chain: Freshness) -> VerificationResult:
    return VerificationResult(
        status=Outcome.MALFORMED,
        reasons=[_reason("malformed", "二维码内容不是有效的电子证照", detail)],
        checked_at=checked_at,
        chain=chain,
    )


class Verifier:
    """Verifies presentations against one deployment's chain state."""

    def __init__(self, state: ChainState, *, chain_id: int, license_registry: str) -> None:
        self.state = state
        self.domain = domain_separator(chain_id, license_registry)
        self._group_signers = GroupSigners(self.domain)

    def check(self, text: object, *, now: float | None = None) -> VerificationResult | BundleResult:
        """A license's QR text (``LC1:``) or a joint bundle's (``LB1:``), each checked as it is."""
        if is_bundle_text(text):
            return self.verify_bundle(text, now=now)
        return self.verify(text, now=now)

    def check_many(
        self, texts: Sequence[object], *, now: float | None = None
    ) -> list[VerificationResult | BundleResult]:
        """``[check(text, now=now) for text in texts]``, the same results, with the secp256k1 licenses'
        signers found together (:mod:`verifier._signers`): the batch endpoint's groups."""
        checked_at = time.time() if now is None else now
        results: list[VerificationResult | BundleResult | None] = [None] * len(texts)
        group: list[tuple[int, Presentation, bytes]] = []
        for i, text in enumerate(texts):
            if is_bundle_text(text):
                results[i] = self.verify_bundle(text, now=checked_at)
                continue
            try:
                p = decode_presentation(text)
            except MalformedPresentationError as exc:
                results[i] = _malformed(str(exc), checked_at, self.state.freshness())
                continue
            try:
                digest = p.digest()
            except Exception:  # noqa: BLE001 - as verify() answers it
                results[i] = _unchecked(checked_at, self.state.freshness())
                continue
            group.append((i, p, digest))
        secp = [(i, p, digest) for i, p, digest in group if p.suite is not SignatureSuite.SM2]
        signers: dict[int, str | None] = {}  # by position; SM2 licenses find theirs in _verify
        try:
            found = self._group_signers.find(self.state, [(p, digest) for _, p, digest in secp])
            signers = {i: signer for (i, _, _), signer in zip(secp, found, strict=True)}
        except Exception:  # each is then recovered on its own
            if _LOG_BUDGET.allow():
                log.exception("finding a group's signers failed; recovered one by one")
        for i, p, digest in group:
            chain = self.state.freshness()  # read for each, as check() reads it: the mirror syncs meanwhile
            try:
                results[i] = self._verify(p, checked_at, chain, digest, (signers[i],) if i in signers else None)
            except Exception:  # noqa: BLE001 - as verify() answers it
                results[i] = _unchecked(checked_at, chain)
        return results  # type: ignore[return-value]  # every position is filled above

    def verify_bundle(self, text: object, *, now: float | None = None) -> BundleResult:
        """A joint bundle's QR text (联办码): its members and co-signatures (:mod:`verifier.bundle`)."""
        checked_at = time.time() if now is None else now
        chain = self.state.freshness()
        try:
            bundle = decode_bundle(text)
        except MalformedPresentationError as exc:
            return malformed_bundle(str(exc), checked_at, chain)
        try:
            return check_bundle(self.state, bundle, self.domain, checked_at)
        except Exception:
            if _LOG_BUDGET.allow():
                log.exception("checking a decoded bundle failed; answered malformed")
            return malformed_bundle("the bundle could not be checked", checked_at, chain)

    def verify(self, text: object, *, now: float | None = None) -> VerificationResult:
        checked_at = time.time() if now is None else now
        chain = self.state.freshness()
        try:
            presentation = decode_presentation(text)
        except MalformedPresentationError as exc:
            return _malformed(str(exc), checked_at, chain)
        try:
            return self._verify(presentation, checked_at, chain)
        except Exception:  # noqa: BLE001 - any failure on a decoded presentation is answered malformed
            return _unchecked(checked_at, chain)

    def _verify(
        self,
        p: Presentation,
        checked_at: float,
        chain: Freshness,
        digest: bytes | None = None,
        found: tuple[str | None] | None = None,
    ) -> VerificationResult:
        """``found``: the secp256k1 signer when already found (:meth:`check_many`), as a 1-tuple."""
        digest = p.digest() if digest is None else digest
        if found is None:
            signer, subject, wrong_suite = self._signer(p, digest)
        else:
            signer, subject = found[0], None
            wrong_suite = signer is not None and self.state.is_sm2_account(signer)
        verdict = self._judge(p, digest, signer, wrong_suite=wrong_suite, checked_at=checked_at, chain=chain)
        return self._answer(p, digest, verdict, signer=signer, subject=subject, checked_at=checked_at, chain=chain)

    def _signer(self, p: Presentation, digest: bytes) -> tuple[str | None, str | None, bool]:
        """(signer, its SM2 certificate's subject, whether a secp256k1 signature came from an SM2
        account: one suite per key, an SM2 department's account signs no license itself)."""
        if p.suite is SignatureSuite.SM2:
            signer, subject = self._sm2_signer(p.header.issuer_id, digest, p.signature)
            return signer, subject, False
        signer = _recover_signer(self.domain, digest, p.signature)
        return signer, None, signer is not None and self.state.is_sm2_account(signer)

    def _answer(
        self,
        p: Presentation,
        digest: bytes,
        verdict: _Verdict,
        *,
        signer: str | None,
        subject: str | None,
        checked_at: float,
        chain: Freshness,
    ) -> VerificationResult:
        """The result of ``verdict`` on ``p``: the header, the disclosed fields when the chain vouches for them."""
        header = p.header
        ltype = header.license_type
        outcome = verdict.outcome
        return frozen(  # every field of VerificationResult, in its order
            VerificationResult,
            outcome,  # status
            [verdict.reason],  # reasons
            checked_at,
            chain,
            str(header.license_id),
            ltype.code,  # license_type
            (ltype.zh, ltype.en),  # license_type_name
            from_day_number(header.valid_from),
            None if header.valid_to is None else from_day_number(header.valid_to),
            disclosed_fields(p) if outcome in _FIELDS_SHOWN else [],
            len(p.hidden),  # hidden_fields
            verdict.issuer,
            header.issuer_uscc,  # issuer_uscc: the canonical code its issuer id holds (LicenseIdentifier checks)
            verdict.anchor,
            digest,
            signer,
            verdict.replacement,
            verdict.co_approval,
            p.suite,
            subject,  # certificate_subject
        )

    def _judge(
        self,
        p: Presentation,
        digest: bytes,
        signer: str | None,
        *,
        wrong_suite: bool,
        checked_at: float,
        chain: Freshness,
    ) -> _Verdict:
        """The chain's verdict on a license with ``digest`` signed by ``signer``: the first failing step."""
        header = p.header
        issuer = self.state.issuer(header.issuer_id)
        if issuer is None:
            return _Verdict(
                Outcome.UNKNOWN_ISSUER,
                _reason(
                    "unknown_issuer",
                    f"统一社会信用代码为 {header.issuer_uscc} 的发证机关未在信任登记簿中登记",
                    f"no issuer with credit code {header.issuer_uscc} is registered in the trust registry",
                ),
            )
        key = None if signer is None else self.state.key(signer)
        if wrong_suite and key is not None and key.issuer_id == header.issuer_id:
            return _Verdict(
                Outcome.TAMPERED,
                _reason(
                    "suite_mismatch",
                    "该证照以 secp256k1 签名，而签名密钥登记为 SM2（国密）密钥：不予认可",
                    "signed with secp256k1 by a key registered for SM2 signatures: not accepted (one suite per key)",
                ),
            )
        if key is None or key.issuer_id != header.issuer_id:
            return _Verdict(
                Outcome.TAMPERED,
                _reason(
                    "signature_mismatch",
                    "证照内容与发证机关的签名不符，内容可能被修改或伪造",
                    "the content does not match a signature by a key of the issuer: it was altered or forged",
                ),
            )
        anchor = self.state.anchor_of(header.issuer_id, digest, signer)
        if anchor is None:
            # "now" is the later of the wall clock and the newest block's time (clocks may differ)
            if not key.contains(max(int(checked_at), chain.block_time)):
                return _Verdict(
                    Outcome.KEY_NOT_VALID,
                    _reason(
                        "key_not_valid_now",
                        "签名密钥现已失效（已轮换、停用或声明泄露），且该证照未上链存证",
                        "signed with a key that is not valid now (rotated, retired or declared compromised) "
                        "and never anchored on chain",
                    ),
                    issuer,
                )
            return _Verdict(
                Outcome.NOT_ANCHORED,
                _reason(
                    "not_anchored",
                    "该证照由发证机关的现行密钥签名，但尚未在区块链上存证（可能刚刚签发），"
                    "内容未经链上确认，暂不显示，请稍后再验",
                    "signed with a current key of the issuer but not yet anchored on chain (it may have just "
                    "been issued); its content is not confirmed by the chain and is not shown: check again later",
                ),
                issuer,
            )
        if not anchor.valid:
            return _Verdict(
                Outcome.NOT_ANCHORED,
                _reason(
                    "invalid_batch",
                    "存证批次的摘要与其默克尔根不符，该批次无效",
                    "the anchored batch's published digests do not match its Merkle root; the batch is void",
                ),
                issuer,
                anchor,
            )
        if anchor.key != signer:
            return _Verdict(
                Outcome.KEY_NOT_VALID,
                _reason(
                    "anchor_key_differs",
                    "存证所用密钥与签名密钥不一致",
                    "the batch was anchored with a different key than the one that signed the license",
                ),
                issuer,
                anchor,
            )
        if not key.contains(anchor.timestamp):
            compromised = key.valid_until <= anchor.timestamp
            when = dt.datetime.fromtimestamp(min(key.valid_until, _LAST_DISPLAYABLE), CHINA_TZ).strftime(
                "%Y-%m-%d %H:%M"
            )
            return _Verdict(
                Outcome.KEY_NOT_VALID,
                _reason(
                    "key_window",
                    f"签名密钥在上链时已失效（有效期至 {when}，可能已声明泄露或已轮换）"
                    if compromised
                    else "签名密钥在上链时尚未生效",
                    f"the signing key was no longer valid when the license was anchored (valid until {when}; "
                    "declared compromised or rotated)"
                    if compromised
                    else "the signing key was not yet valid when the license was anchored",
                ),
                issuer,
                anchor,
            )
        found = standing(self.state, issuer, header, digest, anchor=anchor, checked_at=checked_at)
        return frozen(_Verdict, found.outcome, found.reason, issuer, anchor, found.co_approval, found.replacement)

    def _sm2_signer(self, issuer_id: bytes, digest: bytes, signature: bytes) -> tuple[str | None, str | None]:
        """(account, certificate subject) of the candidate SM2 key that made ``signature``, if any."""
        anchoring = [a.key for a in self.state.issuer_anchors(issuer_id, digest)]
        for binding in self.state.sm2_candidates(issuer_id, anchoring):
            if verify_sm2_license(self.domain, digest, signature, binding.public_key, binding.distinguishing_id):
                return binding.account, binding.subject
        return None, None


@dataclass(frozen=True, slots=True)
class _Verdict:
    """The first failing step's outcome and reason, with what the chain said on the way."""

    outcome: Outcome
    reason: Reason
    issuer: Issuer | None = None
    anchor: Anchor | None = None
    co_approval: CoApproval | None = None
    replacement: bytes | None = None
