"""``elicense demo``: the whole story on one development chain.

Two regions, three departments, a thousand licenses of mixed types anchored in batches, and one
license for each verification outcome, each written as a QR image to ``HOME/demo/<case>.png`` and
listed with its QR text and expected status in ``HOME/demo/presentations.json``; then the SM2 cases
(:mod:`devkit.sm2_demo`: 北京市海淀区市场监督管理局 signs with 国密 SM2) and the joint cases
(:mod:`devkit.joint_demo`): bundles of 七证联办 in 上海市 (``"kind": "bundle"``) and construction permits
under a co-approval policy (联合审批) in 北京市.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from eth_account import Account
from eth_account.signers.local import LocalAccount
from stdnum.cn import uscc
from web3 import Web3

from devkit.devchain import increase_time, is_dev_chain, latest_timestamp
from devkit.joint_demo import JointDemo, add_joint_cases
from devkit.samples import SampleFactory
from devkit.sm2_demo import MAX_SM2_QR_VERSION, add_sm2_cases
from registry import RegistryClient, dev_accounts
from registry._files import private_dir
from registry.document.identifiers import issuer_id_from_uscc
from registry.document.licensetypes import get_type
from registry.document.presentation import Presentation, decode_presentation
from registry.document.qr import qr_info, render_png
from registry.errors import ConfigurationError
from registry.issuer.department import Department, IssueRequest
from registry.issuer.store import IssuerStore
from signer import CoSigningKey, LicenseSigner
from verifier.bundle import BUNDLE_HEADLINES
from verifier.pipeline import HEADLINES, Outcome, Verifier
from verifier.state import ChainClientState

__all__ = ["DEPARTMENTS", "DemoRun", "run_demo"]

CHINA = dt.timezone(dt.timedelta(hours=8))


@dataclass(frozen=True)
class DepartmentSpec:
    key: str
    uscc: str
    name: str
    region: int
    types: tuple[str, ...]

    @property
    def code(self) -> str:
        """The credit code the demo registers (check character recomputed)."""
        return _fixed_uscc(self.uscc)


DEPARTMENTS = (
    DepartmentSpec("bj-samr", "11110000MB0195560T", "北京市市场监督管理局", 110000, ("BL", "FB")),
    DepartmentSpec("bj-housing", "11110000000021135M", "北京市住房和城乡建设委员会", 110000, ("CP",)),
    DepartmentSpec("sh-police", "11310000002420136Q", "上海市公安局", 310000, ("RP",)),
)
UNREGISTERED = DepartmentSpec("unregistered", "11440300MB2C92052H", "某未登记机关", 440300, ())


@dataclass
class DemoRun:
    """What the demo built: its cases, and what a service needs to keep serving them."""

    cases: list[Case]
    client: RegistryClient
    departments: dict[str, Department]  # every registered department, by credit code
    store: IssuerStore
    co_signing_keys: dict[str, CoSigningKey] = field(default_factory=dict)  # by credit code
    joint: JointDemo | None = None  # the joint desk, applications and the refused joint anchor


@dataclass
class Case:
    """One QR code of the demo: a license (its status an ``Outcome``) or a joint bundle (``LB1:``,
    its status a ``BundleOutcome``)."""

    name: str
    expected: str
    text: str
    note: str
    kind: str = "license"
    got: str | None = None
    qr_version: int | None = None

    def headline(self) -> str:
        if self.got is None:
            return ""
        if self.kind == "bundle":
            return BUNDLE_HEADLINES[self.got][0]
        return HEADLINES[Outcome(self.got)][0]


def _fixed_uscc(code: str) -> str:
    """The demo's department codes with their check characters recomputed (GB 32100)."""
    return code[:17] + uscc.calc_check_digit(code[:17])


def run_demo(
    home: Path,
    w3: Web3,
    *,
    rpc_url: str | None,
    licenses: int = 1000,
    as_json: bool = False,
    echo: Callable[[str], None] = print,
) -> DemoRun:
    if not is_dev_chain(w3):
        raise ConfigurationError("the demo needs a development chain (in process, or a Hardhat node)")
    started = time.monotonic()
    out = home / "demo"
    if rpc_url is not None and (home / "deployment.json").exists():
        raise ConfigurationError(f"{home / 'deployment.json'} exists; run the demo with a fresh --home")
    if out.exists():
        shutil.rmtree(out)
    private_dir(out)  # the demo's QR codes carry names and identity numbers
    say = (lambda _m: None) if as_json else echo

    admin, authority_bj, authority_sh = dev_accounts(w3)[:3]
    client, deployed = RegistryClient.deploy(w3, admin)
    deployment = deployed.deployment
    if rpc_url is not None:
        deployment.save(home / "deployment.json")
    say(f"deployed: TrustRegistry {deployment.trust_registry}, LicenseRegistry {deployment.license_registry}")

    client.add_region(admin, 110000, "北京市")
    client.add_region(admin, 310000, "上海市")
    client.add_region_authority(admin, 110000, authority_bj.address)
    client.add_region_authority(admin, 310000, authority_sh.address)
    authorities = {110000: authority_bj, 310000: authority_sh}

    store = IssuerStore.at(out / "store.db")
    now = latest_timestamp(w3)
    departments: dict[str, Department] = {}
    for spec in (*DEPARTMENTS, UNREGISTERED):
        uscc = _fixed_uscc(spec.uscc)
        key: LocalAccount = Account.create()
        client.fund(admin, key.address, 10**19)
        if spec is not UNREGISTERED:
            authority = authorities[spec.region]
            issuer_id = issuer_id_from_uscc(uscc)
            client.register_issuer(authority, issuer_id, spec.region, spec.name)
            client.add_key(authority, issuer_id, key, valid_from=now)
            for code in spec.types:
                client.permit_license_type(authority, issuer_id, get_type(code).type_id, valid_from=now)
        signer = LicenseSigner(key, chain_id=deployment.chain_id, license_registry=deployment.license_registry)
        departments[spec.key] = Department(issuer_uscc=uscc, store=store, signer=signer, client=client, account=key)
    say("regions 110000 北京市 and 310000 上海市; departments: " + ", ".join(d.name for d in DEPARTMENTS))

    today = dt.datetime.now(CHINA).date()
    samples = SampleFactory(2026, today=today)
    samr, housing, police = departments["bj-samr"], departments["bj-housing"], departments["sh-police"]

    # -- the bulk: mixed types, anchored in batches ----------------------------------------------
    bulk: dict[str, list[IssueRequest]] = {"bj-samr": [], "bj-housing": [], "sh-police": []}
    for i in range(licenses):
        slot = i % 20
        if slot < 12:
            bulk["bj-samr"].append(samples.business_license())
        elif slot < 15:
            bulk["bj-samr"].append(samples.food_permit())
        elif slot < 18:
            bulk["bj-housing"].append(samples.construction_permit())
        else:
            bulk["sh-police"].append(samples.residence_permit())
    issued = {k: departments[k].issue_many(v) for k, v in bulk.items()}
    batches = []
    for k in bulk:
        batches += departments[k].anchor_pending(batch_size=250)
    by_department = ", ".join(f"{len(v)} by {departments[k].issuer_uscc}" for k, v in issued.items())
    say(
        f"issued {licenses} licenses ({by_department}) "
        f"and anchored them in {len(batches)} batches "
        f"({sum(b.tx.gas_used for b in batches) / max(1, sum(b.count for b in batches)):,.0f} gas per license)"
    )

    # -- one license per outcome ----------------------------------------------------------------
    cases: list[Case] = []

    def add(name: str, expected: str, text: str, note: str, kind: str = "license") -> None:
        cases.append(Case(name, expected, text, note, kind))

    bl = issued["bj-samr"][0]
    valid_text = samr.presentation(bl.license_id).to_text()
    add("valid", Outcome.VALID, valid_text, "business license, business scope left undisclosed")
    add(
        "valid_full_disclosure",
        Outcome.VALID,
        samr.presentation(bl.license_id, disclose=list(bl.fields)).to_text(),
        "the same license with every field disclosed",
    )
    lc1_text = samr.presentation(bl.license_id).to_text(form="LC1")
    add("valid_lc1", Outcome.VALID, lc1_text, "the same license in the earlier QR form (LC1:), still read")
    add("tampered", Outcome.TAMPERED, _tamper(valid_text), "the company name changed in the QR code")
    add("malformed", Outcome.MALFORMED, valid_text[: len(valid_text) // 2], "a QR text cut in half")

    revoked = issued["bj-samr"][1]
    samr.revoke([revoked.license_id], reason=3)
    add("revoked", Outcome.REVOKED, samr.presentation(revoked.license_id).to_text(), "revoked by the issuer")

    food = next(r for r in issued["bj-samr"] if r.type_code == "FB")
    samr.suspend([food.license_id], reason=12)
    add("suspended", Outcome.SUSPENDED, samr.presentation(food.license_id).to_text(), "food permit suspended")

    reinstated = issued["bj-samr"][2]
    samr.suspend([reinstated.license_id], reason=12)
    samr.reinstate([reinstated.license_id], reason=0)
    add(
        "reinstated",
        Outcome.VALID,
        samr.presentation(reinstated.license_id).to_text(),
        "suspended, then reinstated",
    )

    amended = issued["bj-samr"][3]
    new_version, _ = samr.amend(amended.license_id, {"domicile": samples.address(110000)})
    samr.anchor_pending()
    add("superseded", Outcome.SUPERSEDED, samr.presentation(amended.license_id).to_text(), "the old version")
    add("amended", Outcome.VALID, samr.presentation(new_version.license_id).to_text(), "the new version (v2)")

    expired = samr.issue(
        samples.business_license(valid_from=today - dt.timedelta(days=800), valid_to=today - dt.timedelta(days=1))
    )
    future = samr.issue(samples.business_license(valid_from=today + dt.timedelta(days=30)))
    pending = samr.issue(samples.business_license())
    samr.anchor_pending()
    wrong_type = police.issue(samples.business_license(region=310000))
    police.anchor_pending()
    stranger = departments["unregistered"].issue(samples.business_license(region=440300))
    add("expired", Outcome.EXPIRED, samr.presentation(expired.license_id).to_text(), "valid until yesterday")
    add("not_yet_valid", Outcome.NOT_YET_VALID, samr.presentation(future.license_id).to_text(), "valid in 30 days")
    add(
        "type_not_permitted",
        Outcome.TYPE_NOT_PERMITTED,
        police.presentation(wrong_type.license_id).to_text(),
        "a business license anchored by the public security bureau",
    )
    add(
        "unknown_issuer",
        Outcome.UNKNOWN_ISSUER,
        departments["unregistered"].presentation(stranger.license_id).to_text(),
        "signed by a department that is not registered",
    )

    # a key declared compromised: one license anchored before the compromise, one after
    before = housing.issue(samples.construction_permit())
    housing.anchor_pending()
    first_anchor = latest_timestamp(w3)
    increase_time(w3, 3600)
    after = housing.issue(samples.construction_permit())
    housing.anchor_pending()
    compromised_at = first_anchor + 1800  # declared below, the demo's last transaction
    add(
        "compromised_key_before",
        Outcome.VALID,
        housing.presentation(before.license_id).to_text(),
        "anchored before the key was compromised",
    )
    add(
        "compromised_key_after",
        Outcome.KEY_NOT_VALID,
        housing.presentation(after.license_id).to_text(),
        "anchored after the key was compromised",
    )
    pending_after = samr.issue(samples.business_license())
    add(
        "not_anchored",
        Outcome.NOT_ANCHORED,
        samr.presentation(pending_after.license_id).to_text(),
        "issued and signed, not yet anchored",
    )
    del pending

    sm2 = add_sm2_cases(
        client, store, admin=admin, authority=authority_bj, samples=samples, add=add, tamper=_tamper, say=say
    )
    joint = add_joint_cases(
        client, store, admin=admin, authorities=authorities, housing=housing, samples=samples, add=add, say=say
    )
    # Last, as a department would: a verifier that counts only confirmed blocks still sees every
    # anchor of the cases above, and a compromise applies as soon as it is seen.
    client.declare_key_compromised(authority_bj, housing.issuer_id, housing.address, compromised_at=compromised_at)

    # -- verify every case against the chain ------------------------------------------------------
    state = ChainClientState(client)
    state.sync()
    verifier = Verifier(state, chain_id=deployment.chain_id, license_registry=deployment.license_registry)
    for case in cases:
        case.got = str(verifier.check(case.text).status)
        try:
            case.qr_version = qr_info(case.text).version
            (out / f"{case.name}.png").write_bytes(render_png(case.text))
        except ConfigurationError:
            case.qr_version = None
    presentations = {
        c.name: {
            "text": c.text,
            "expected": c.expected,
            "note": c.note,
            **({"kind": c.kind} if c.kind != "license" else {}),
        }
        for c in cases
    }
    (out / "presentations.json").write_text(json.dumps(presentations, ensure_ascii=False, indent=2), encoding="utf-8")

    if as_json:
        echo(
            json.dumps(
                {
                    "deployment": deployment.to_dict(),
                    "cases": [
                        {
                            "case": c.name,
                            "kind": c.kind,
                            "expected": c.expected,
                            "got": c.got,
                            "qr_version": c.qr_version,
                            "note": c.note,
                        }
                        for c in cases
                    ],
                },
                ensure_ascii=False,
            )
        )
    else:
        echo("")
        echo(f"{'case':24} {'expected':19} {'result':19} {'QR':>3}  meaning")
        for c in cases:
            mark = "ok" if c.got == c.expected else "MISMATCH"
            echo(
                f"{c.name:24} {c.expected:19} {c.got or '-':19} {c.qr_version or '-':>3}  "
                f"{c.headline()} / {c.note} [{mark}]"
            )
        echo("")
        by_name = {c.name: c for c in cases}
        full, old = by_name["valid_full_disclosure"], by_name["valid_lc1"]
        echo(
            f"business license QR at level M: {len(valid_text)} characters, version {by_name['valid'].qr_version} "
            f"(every field: {len(full.text)}, version {full.qr_version}); "
            f"in the earlier form LC1: {len(old.text)}, version {old.qr_version}"
        )
        for c in cases:
            if c.name == sm2.valid_case:
                echo(
                    f"SM2 business license: {len(c.text)} characters, QR version {c.qr_version} at level M (at most 15)"
                )
            if c.kind == "bundle":
                echo(f"联办码 {c.name}: {len(c.text)} characters, QR version {c.qr_version} at level M (at most 25)")
        echo(f"QR images and presentations.json written to {out} ({time.monotonic() - started:.1f} s)")
        if rpc_url is not None:
            echo(
                f"verify any of them again: elicense --home {home} --rpc-url {rpc_url} verify "
                f"--image {out / 'valid.png'}"
            )
    mismatches = [c.name for c in cases if c.got != c.expected]
    too_big = [c.name for c in cases if c.kind == "bundle" and (c.qr_version is None or c.qr_version > 25)]
    too_big += [c.name for c in cases if c.name == sm2.valid_case and (c.qr_version or 99) > MAX_SM2_QR_VERSION]
    if mismatches:
        raise ConfigurationError(f"demo cases did not give their expected status: {', '.join(mismatches)}")
    if too_big:
        raise ConfigurationError(f"QR codes above their version at level M (25, SM2: 15): {', '.join(too_big)}")
    real = {_fixed_uscc(d.uscc): departments[d.key] for d in DEPARTMENTS} | {sm2.department.issuer_uscc: sm2.department}
    return DemoRun(
        cases=cases,
        client=client,
        departments={**real, **joint.departments},
        store=store,
        co_signing_keys=dict(joint.co_signing_keys),
        joint=joint,
    )


def _tamper(text: str) -> str:
    """The same presentation with the company name changed (signature unchanged)."""
    p = decode_presentation(text)
    disclosed: dict[str, Any] = dict(p.disclosed)
    disclosed["name"] = str(disclosed["name"]).replace("有限公司", "集团有限公司")
    forged = Presentation(header=p.header, disclosed=disclosed, nodes=p.nodes, hidden=p.hidden, signature=p.signature)
    return forged.to_text()
