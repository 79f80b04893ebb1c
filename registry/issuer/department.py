"""Issuing departments: issue (validate, commit, sign, store), anchor, change status, amend.

A :class:`Department` combines one issuer's identity, its signing key, the issuer store, and, for
anchoring and status changes, the chain client. It signs in one of two suites
(:class:`~registry.document.suites.SignatureSuite`):

- secp256k1 (the default): the signer is the account key itself (anything with ``address`` and
  ``sign_license``, such as ``signer.LicenseSigner``);
- SM2: the signer is the department's SM2 key (``signer.Sm2LicenseSigner``), bound on chain to the
  anchoring ``account``, which stays the key that anchors and changes status::

      Department(issuer_uscc=..., store=..., signer=Sm2LicenseSigner(key, chain_id=..., license_registry=...),
                 suite=SignatureSuite.SM2, client=client, account=account)

Each stored license records its suite, so a presentation rebuilt from the store carries it.

A department that only anchors and changes status (the anchoring worker, ``license anchor``,
``suspend``, ``reinstate``, ``revoke``) needs no signing key: built with ``signer=None`` and its
``account``, it refuses to issue. So an SM2 department's SM2 key is opened only where it signs.
"""

from __future__ import annotations

import datetime as dt
import os
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from eth_account.signers.local import LocalAccount
from sqlalchemy.engine import Connection

from registry.chain.client import AnchorResult, RegistryClient, TxResult
from registry.document.identifiers import FieldValueError, LicenseIdentifier, issuer_id_from_uscc, validate_uscc
from registry.document.license import License, LicenseHeader
from registry.document.licensetypes import LicenseType, from_day_number, get_type
from registry.document.presentation import Presentation, present
from registry.document.suites import SignatureSuite
from registry.errors import ConfigurationError, NotFoundError
from registry.issuer.store import IssuerStore, LicenseRow
from registry.issuer.worker import AnchorWorker
from signer import LicenseSigner

__all__ = ["Department", "IssueRequest", "LicenseNotFoundError", "LicenseSigning", "Signer"]

#: Licenses written per database transaction when issuing many.
ISSUE_CHUNK = 1000


class LicenseSigning(Protocol):
    """What signs a license digest (an SM2 signer: ``signer.Sm2LicenseSigner``)."""

    def sign_license(self, digest: bytes) -> bytes: ...


class Signer(LicenseSigning, Protocol):
    """A secp256k1 signer: the account key itself (``signer.LicenseSigner``)."""

    address: str


class LicenseNotFoundError(NotFoundError):
    """No license with that id in this store."""


@dataclass(frozen=True, slots=True)
class IssueRequest:
    """One license to issue."""

    license_type: str
    fields: Mapping[str, object]
    valid_from: dt.date
    valid_to: dt.date | None = None

    def to_dict(self) -> dict[str, object]:
        """The JSON form the HTTP API takes (dates as YYYY-MM-DD)."""
        return {
            "type": self.license_type,
            "valid_from": self.valid_from.isoformat(),
            "valid_to": None if self.valid_to is None else self.valid_to.isoformat(),
            "fields": {k: v.isoformat() if isinstance(v, dt.date) else v for k, v in self.fields.items()},
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, object], *, where: str = "license") -> IssueRequest:
        """From JSON/CSV input: ``type``, ``valid_from``, optional ``valid_to``, the rest are fields
        (or a nested ``fields`` object)."""
        if not isinstance(data, Mapping):
            raise FieldValueError(where, "is not an object", "an object with type, valid_from and fields")
        items = dict(data)
        ltype = items.pop("type", items.pop("license_type", None))
        if not isinstance(ltype, str):
            raise FieldValueError(f"{where}.type", "is missing", "a license type code such as BL")
        start = _date(items.pop("valid_from", None), f"{where}.valid_from", required=True)
        end = _date(items.pop("valid_to", None), f"{where}.valid_to", required=False)
        nested = items.pop("fields", None)
        fields = dict(nested) if isinstance(nested, Mapping) else {}
        fields.update({k: v for k, v in items.items() if v not in (None, "")})
        assert start is not None
        return cls(license_type=ltype, fields=fields, valid_from=start, valid_to=end)


def _date(value: object, where: str, *, required: bool) -> dt.date | None:
    if value is None or value == "":
        if required:
            raise FieldValueError(where, "is missing", "a date as YYYY-MM-DD")
        return None
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise FieldValueError(where, f"{value!r} is not a date", "a date as YYYY-MM-DD")


class Department:
    """One issuing department (issuer) working through its store and its signing key."""

    def __init__(
        self,
        *,
        issuer_uscc: str,
        store: IssuerStore,
        signer: Signer | LicenseSigning | None,
        client: RegistryClient | None = None,
        account: LocalAccount | None = None,
        suite: SignatureSuite = SignatureSuite.SECP256K1,
        address: str | None = None,
    ) -> None:
        """``address`` names the anchoring account of an SM2 department that issues without the
        chain (no ``account``); otherwise it is the account's (SM2) or the signer's (secp256k1).
        ``signer=None``: the department anchors and changes status with ``account`` and issues nothing."""
        self.issuer_uscc = validate_uscc(issuer_uscc, field="issuer")
        self.issuer_id = issuer_id_from_uscc(self.issuer_uscc)
        self.store = store
        self.signer = signer
        self.client = client
        self.account = account  # the transaction signer for anchoring/status changes
        self.suite = SignatureSuite.parse(suite)
        self.address = self._signing_address(address)

    def _signing_address(self, address: str | None) -> str:
        """The account the licenses are filed under and anchored by."""
        account = None if self.account is None else self.account.address
        if self.signer is None:
            if account is None:
                raise ConfigurationError(
                    "a department without a signing key only anchors and changes status: it needs its account"
                )
            if address is not None and address != account:
                raise ConfigurationError("address and account name different anchoring accounts")
            return account
        if self.suite is SignatureSuite.SECP256K1:
            own = getattr(self.signer, "address", None)
            if not isinstance(own, str):
                raise ConfigurationError("a secp256k1 signer is the account key itself and has an address")
            if (account is not None and account != own) or (address is not None and address != own):
                raise ConfigurationError("the anchoring account must be the signing key")
            return own
        if isinstance(self.signer, LicenseSigner):
            raise ConfigurationError("an SM2 department signs with its SM2 key (signer.Sm2LicenseSigner)")
        if account is None and address is None:
            raise ConfigurationError("an SM2 department needs the anchoring account its SM2 key is bound to")
        if account is not None and address is not None and account != address:
            raise ConfigurationError("address and account name different anchoring accounts")
        chosen = account or address
        assert chosen is not None
        return chosen

    # -- issuing -----------------------------------------------------------------------------------

    def issue(self, request: IssueRequest) -> LicenseRow:
        return self.issue_many([request])[0]

    def issue_many(
        self, requests: Sequence[IssueRequest], *, progress: Callable[[int], None] | None = None
    ) -> list[LicenseRow]:
        """Validate, commit, sign and store; all of a chunk of ``ISSUE_CHUNK`` or none of it. Every
        request is validated before any serial is reserved or anything is written."""
        self._signing()
        prepared: list[tuple[LicenseType, IssueRequest]] = []
        for index, request in enumerate(requests):
            ltype = get_type(request.license_type)
            try:
                ltype.canonical_fields(request.fields)
                if request.valid_to is not None and request.valid_to < request.valid_from:
                    raise FieldValueError("valid_to", "is before valid_from", "a last valid day on or after the first")
            except FieldValueError as exc:
                raise FieldValueError(f"license #{index + 1} {exc.field}", exc.problem, exc.expected) from None
            prepared.append((ltype, request))
        issued: list[LicenseRow] = []
        for start in range(0, len(prepared), ISSUE_CHUNK):
            chunk = prepared[start : start + ISSUE_CHUNK]
            counts: dict[str, int] = {}
            for ltype, _ in chunk:
                counts[ltype.code] = counts.get(ltype.code, 0) + 1
            next_serial = {
                code: self.store.allocate_serials(self.issuer_uscc, code, n) for code, n in sorted(counts.items())
            }
            rows = []
            for ltype, request in chunk:
                serial = next_serial[ltype.code]
                next_serial[ltype.code] = serial + 1
                rows.append(self._make(ltype, request, serial))
            self.store.add_licenses(rows)
            issued.extend(rows)
            if progress is not None:
                progress(len(rows))
        return issued

    def prepare(self, request: IssueRequest, *, conn: Connection | None = None) -> LicenseRow:
        """Validate, commit and sign one license with the next serial, without storing it: the
        caller stores it (``IssuerStore.add_licenses``, or in its transaction ``conn``, where the
        serial is reserved too, with what it records alongside, as applications do)."""
        self._signing()
        ltype = get_type(request.license_type)
        ltype.canonical_fields(request.fields)
        if request.valid_to is not None and request.valid_to < request.valid_from:
            raise FieldValueError("valid_to", "is before valid_from", "a last valid day on or after the first")
        return self._make(ltype, request, self.store.allocate_serials(self.issuer_uscc, ltype.code, 1, conn=conn))

    def _signing(self) -> Signer | LicenseSigning:
        """The signer, or :class:`ConfigurationError` for a department built without one."""
        if self.signer is None:
            raise ConfigurationError(
                f"department {self.issuer_uscc} was opened without its signing key (to anchor and change "
                "status only); open it with its signer to issue"
            )
        return self.signer

    def _make(self, ltype: LicenseType, request: IssueRequest, serial: int, version: int = 1) -> LicenseRow:
        license_id = LicenseIdentifier(ltype.code, self.issuer_uscc, serial, version)
        lic = License.create(
            license_type=ltype,
            license_id=license_id,
            valid_from=request.valid_from,
            valid_to=request.valid_to,
            fields=request.fields,
            secret=os.urandom(16),
        )
        return LicenseRow(
            license_id=str(license_id),
            digest=lic.digest,
            type_code=ltype.code,
            issuer_uscc=self.issuer_uscc,
            serial=serial,
            version=version,
            valid_from=lic.header.valid_from,
            valid_to=lic.header.valid_to,
            fields=dict(lic.fields),
            secret=lic.secret,
            signature=self._signing().sign_license(lic.digest),
            signer=self.address,
            created_at=int(time.time()),
            suite=self.suite,
        )

    # -- reading -----------------------------------------------------------------------------------

    def get(self, license_id: str) -> LicenseRow:
        row = self.store.get(str(LicenseIdentifier.parse(license_id)))
        if row is None or row.issuer_uscc != self.issuer_uscc:
            raise LicenseNotFoundError(f"no license {license_id} of issuer {self.issuer_uscc} in this store")
        return row

    @staticmethod
    def license_of(row: LicenseRow) -> License:
        ltype = get_type(row.type_code)
        header = LicenseHeader(
            license_type=ltype,
            license_id=LicenseIdentifier(row.type_code, row.issuer_uscc, row.serial, row.version),
            valid_from=row.valid_from,
            valid_to=row.valid_to,
        )
        return License(header=header, fields=row.fields, secret=row.secret)

    @classmethod
    def present_row(cls, row: LicenseRow, disclose: Iterable[str] | None = None) -> Presentation:
        """A stored license's presentation, in the suite it was signed with."""
        chosen = None if disclose is None else list(disclose)
        return present(cls.license_of(row), row.signature, chosen, suite=row.suite)

    def presentation(self, license_id: str, disclose: Iterable[str] | None = None) -> Presentation:
        return self.present_row(self.get(license_id), disclose)

    # -- anchoring ---------------------------------------------------------------------------------

    def _chain(self) -> tuple[RegistryClient, LocalAccount]:
        if self.client is None or self.account is None:
            raise ConfigurationError("this operation needs the chain (a client and the key's account)")
        return self.client, self.account

    def anchor_pending(self, *, batch_size: int = 1000) -> list[AnchorResult]:
        """Anchor everything this department's key has pending now (resuming any batch a crash
        interrupted), in batches of ``batch_size``: one pass of :class:`~registry.issuer.worker.AnchorWorker`."""
        client, account = self._chain()
        worker = AnchorWorker(self.store, client, [account], batch_size=batch_size, max_age=0)
        return worker.run_once(force=True)

    # -- status ------------------------------------------------------------------------------------

    def _rows(self, license_ids: Sequence[str]) -> list[LicenseRow]:
        if not license_ids:
            raise ConfigurationError("give at least one license id")
        return [self.get(i) for i in license_ids]

    def suspend(self, license_ids: Sequence[str], *, reason: int) -> TxResult:
        client, account = self._chain()
        rows = self._rows(license_ids)
        tx = client.suspend(account, self.issuer_id, [r.digest for r in rows], reason=reason)
        self.store.set_status([r.license_id for r in rows], "suspended", reason)
        return tx

    def reinstate(self, license_ids: Sequence[str], *, reason: int = 0) -> TxResult:
        client, account = self._chain()
        rows = self._rows(license_ids)
        tx = client.reinstate(account, self.issuer_id, [r.digest for r in rows], reason=reason)
        self.store.set_status([r.license_id for r in rows], "active", reason)
        return tx

    def revoke(self, license_ids: Sequence[str], *, reason: int) -> TxResult:
        client, account = self._chain()
        rows = self._rows(license_ids)
        tx = client.revoke(account, self.issuer_id, [r.digest for r in rows], reason=reason)
        self.store.set_status([r.license_id for r in rows], "revoked", reason)
        return tx

    def amend(
        self,
        license_id: str,
        changes: Mapping[str, object],
        *,
        valid_to: dt.date | str | None = "unchanged",
        reason: int = 0,
    ) -> tuple[LicenseRow, TxResult]:
        """Issue version n+1 with ``changes`` applied and supersede version n on chain."""
        self._signing()
        client, account = self._chain()
        old = self.get(license_id)
        if old.status in ("revoked", "superseded"):
            raise ConfigurationError(f"{license_id} is {old.status}; only a license in force can be amended")
        ltype = get_type(old.type_code)
        fields: dict[str, object] = {k: _display_input(ltype, k, v) for k, v in old.fields.items()}
        fields.update(changes)
        end = from_day_number(old.valid_to) if old.valid_to is not None else None
        request = IssueRequest(
            license_type=old.type_code,
            fields={k: v for k, v in fields.items() if v is not None},
            valid_from=from_day_number(old.valid_from),
            valid_to=end if valid_to == "unchanged" else (valid_to if not isinstance(valid_to, str) else None),
        )
        ltype.canonical_fields(request.fields)
        new = self._make(ltype, request, old.serial, old.version + 1)
        self.store.add_licenses([new])
        tx = client.supersede(account, self.issuer_id, [old.digest], [new.digest], reason=reason)
        self.store.set_status([old.license_id], "superseded", reason, superseded_by=new.license_id)
        return new, tx


def _display_input(ltype: LicenseType, key: str, value: str | int) -> object:
    """Turn a canonical value back into an input value (dates are stored as day numbers)."""
    spec = ltype.by_key[key]
    if spec.kind.value == "date":
        return from_day_number(int(value))
    return value
