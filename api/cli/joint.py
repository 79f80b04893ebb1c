"""Joint applications (联办件, docs/joint.md), kept by the departments in this home's issuer store:
open, add, cosign, import-cosignature, anchor, show, list, qr; and the bundle's part of `verify`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from api.cli._context import Context, fail, password_options, password_source, signer_options, signing_account
from api.cli._explain import explain
from api.cli.cosigning import parse_hex
from registry import Deployment
from registry.document.identifiers import issuer_id_from_uscc, validate_uscc
from registry.document.qr import qr_info, render_png, render_svg
from registry.errors import ContractRevertError
from registry.issuer.joint import JointApplication, JointDesk
from signer import co_signing_key_id, domain_separator, load_co_signing_key
from verifier.bundle import BUNDLE_HEADLINES, BundleResult


def _desk(ctx: Context, /, *, chain: bool = False) -> JointDesk:
    """The joint desk of this home's store, with the chain client when there is a chain (--rpc-url)."""
    client = ctx.client() if chain or ctx.rpc_url is not None else None
    if client is not None:
        deployment = client.deployment
    elif ctx.deployment_path.exists():
        deployment = Deployment.load(ctx.deployment_path)
    else:
        fail(f"no deployment at {ctx.deployment_path}: a bundle is co-signed for one deployment; deploy first")
    return JointDesk(
        ctx.store(), domain=domain_separator(deployment.chain_id, deployment.license_registry), client=client
    )


def _names(desk: JointDesk, application: JointApplication) -> dict[bytes, str]:
    """Department names (by issuer id, from the chain when there is one) and member labels (by digest)."""
    names: dict[bytes, str] = {}
    if desk.client is not None:
        for uscc in application.departments:
            record = desk.client.get_issuer(issuer_id_from_uscc(uscc))
            if record is not None:
                names[issuer_id_from_uscc(uscc)] = record.name
    for m in application.bundle.members if application.bundle else ():
        names[m.digest] = f"{m.license_type.code} ({m.license_type.zh}) {m.license_id.text}"
    return names


def report(desk: JointDesk, application: JointApplication) -> dict[str, Any]:
    """An application as `joint show --json` prints it."""
    names = _names(desk, application)
    current = application.current_cosignatures
    made = {c.issuer_uscc: c for c in application.cosignatures}
    departments = []
    issuers = {lid[2:20] for lid in application.license_ids}
    for uscc in application.departments:
        role = "lead" if uscc == application.lead_uscc else "issuer" if uscc in issuers else "co-approver"
        signed = made.get(uscc)
        departments.append(
            {
                "uscc": uscc,
                "name": names.get(issuer_id_from_uscc(uscc)),
                "role": role,
                "cosigned": "yes" if uscc in current else "stale" if signed else "no",
                "key_id": None if signed is None else "0x" + co_signing_key_id(signed.public_key).hex(),
            }
        )
    members = [
        {
            "license_id": m.license_id.text,
            "type": {"code": m.license_type.code, "zh": m.license_type.zh, "en": m.license_type.en},
            "issuer": m.license_id.issuer_uscc,
            "digest": "0x" + m.digest.hex(),
        }
        for m in (application.bundle.members if application.bundle else ())
    ]
    anchored = application.state == "anchored"
    return {
        "application_id": application.application_id,
        "state": application.state,
        "lead": application.lead_uscc,
        "applicant": {"uscc": application.applicant.credit_code, "name": application.applicant.name},
        "departments": departments,
        "missing_cosignatures": list(application.missing_cosignatures),
        "members": members,
        "bundle_digest": None if application.bundle_digest is None else "0x" + application.bundle_digest.hex(),
        "anchor": {
            "block_number": application.block_number,
            "tx_hash": None if application.tx_hash is None else "0x" + application.tx_hash.hex(),
        }
        if anchored
        else None,
    }


def _echo_report(data: dict[str, Any]) -> None:
    click.echo(f"{data['application_id']}  {data['state']}")
    click.echo(f"  applicant  {data['applicant']['uscc']} {data['applicant']['name']}")
    click.echo("  departments")
    for d in data["departments"]:
        click.echo(f"    {d['uscc']} {d['name'] or ''} ({d['role']})  co-signed: {d['cosigned']}")
    click.echo(f"  members ({len(data['members'])})")
    for m in data["members"]:
        click.echo(f"    {m['type']['code']} {m['type']['zh']}  {m['license_id']}")
    if data["bundle_digest"]:
        click.echo(f"  bundle digest  {data['bundle_digest']}")
    if data["anchor"]:
        tx = data["anchor"]["tx_hash"]
        click.echo(f"  anchored   block {data['anchor']['block_number']}" + (f", tx {tx}" if tx else ""))


@click.group()
def joint() -> None:
    """Joint applications (联办件): several departments' licenses for one applicant, co-signed
    (BLS12-381) and anchored together."""


@joint.command("open")
@click.option("--lead", required=True, help="Credit code of the lead department.")
@click.option("--applicant-uscc", required=True, help="The applicant enterprise's unified social credit code.")
@click.option("--applicant-name", required=True, help="The applicant enterprise's name.")
@click.option("--co-approver", "co_approvers", multiple=True, help="A further co-approving department (repeat).")
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
def joint_open(
    ctx: Context, /, lead: str, applicant_uscc: str, applicant_name: str, co_approvers: tuple[str, ...], as_json: bool
) -> None:
    """Open a joint application; print its id (JA...)."""
    desk = _desk(ctx)
    application = desk.open(
        lead_uscc=lead, applicant_uscc=applicant_uscc, applicant_name=applicant_name, co_approvers=co_approvers
    )
    click.echo(json.dumps(report(desk, application), ensure_ascii=False) if as_json else application.application_id)


@joint.command("add")
@click.argument("application_id")
@click.argument("license_ids", nargs=-1)
@click.option("--co-approver", "co_approvers", multiple=True, help="Name a further co-approving department (repeat).")
@click.pass_obj
def joint_add(
    ctx: Context, /, application_id: str, license_ids: tuple[str, ...], co_approvers: tuple[str, ...]
) -> None:
    """Add licenses of this store (and co-approving departments) to an open application; co-signatures
    made before go stale."""
    if not license_ids and not co_approvers:
        fail("give LICENSE_ID... to add, or --co-approver USCC")
    extra = [validate_uscc(c, field="--co-approver") for c in co_approvers]
    desk = _desk(ctx)
    application = desk.get(application_id)
    if license_ids:
        application = desk.add(application_id, list(license_ids))
    if co_approvers:
        application = desk.add_co_approvers(application_id, extra)
    click.echo(
        f"{application.application_id}: {len(application.license_ids)} licenses from "
        f"{len(application.departments)} departments; awaiting the co-signature of "
        f"{', '.join(application.missing_cosignatures) or 'nobody'}"
    )


@joint.command("cosign")
@click.argument("application_id")
@click.option("--department", required=True, help="Credit code of the co-signing department.")
@click.option(
    "--key", "--co-signing-key", "key", required=True, help="The department's co-signing keystore (NAME|FILE)."
)
@password_options
@click.pass_obj
def joint_cosign(
    ctx: Context,
    /,
    application_id: str,
    department: str,
    key: str,
    password_env: str | None,
    password_file: Path | None,
) -> None:
    """The department co-signs the application's bundle as it stands (checked against the chain's
    record of its co-signing keys when there is a chain)."""
    desk = _desk(ctx)
    desk.get(application_id)  # an unknown application is named before any password is asked
    path = ctx.keystore_path(key)
    co_key = load_co_signing_key(path, password_source(password_env, password_file).read(purpose=str(path)))
    signed = desk.cosign(application_id, department, co_key)
    if desk.client is None:
        click.echo("note: without --rpc-url the key was not checked against the chain's co-signing keys", err=True)
    click.echo(f"{signed.issuer_uscc} co-signed bundle 0x{signed.bundle_digest.hex()} with key 0x{co_key.key_id.hex()}")


@joint.command("import-cosignature")
@click.argument("application_id")
@click.option("--department", required=True, help="Credit code of the department that co-signed.")
@click.option("--public-key", required=True, help="Its co-signing public key, 48 bytes in hex.")
@click.option("--signature", required=True, help="Its co-signature of the bundle digest, 96 bytes in hex.")
@click.pass_obj
def joint_import_cosignature(
    ctx: Context, /, application_id: str, department: str, public_key: str, signature: str
) -> None:
    """Record a co-signature a department made in another system (checked over the bundle first)."""
    pk = parse_hex(public_key, option="--public-key", size=48, what="a compressed BLS12-381 public key")
    sig = parse_hex(signature, option="--signature", size=96, what="a compressed BLS12-381 signature")
    signed = _desk(ctx).add_cosignature(application_id, validate_uscc(department, field="--department"), pk, sig)
    click.echo(f"{signed.issuer_uscc}'s co-signature of bundle 0x{signed.bundle_digest.hex()} recorded")


@joint.command("anchor")
@click.argument("application_id")
@signer_options
@click.pass_obj
def joint_anchor(ctx: Context, /, application_id: str, **opts: Any) -> None:
    """Anchor the bundle with the departments' aggregate co-signature, sent by a signing key of one
    of the departments (--keystore); the license registry checks it on chain."""
    desk = _desk(ctx, chain=True)
    application = desk.get(application_id)
    if application.state == "open" and application.missing_cosignatures:
        names = _names(desk, application)
        stale = {c.issuer_uscc for c in application.cosignatures}
        missing = [
            f"{u}{' ' + names[issuer_id_from_uscc(u)] if issuer_id_from_uscc(u) in names else ''}"
            + (" (stale: it signed the bundle before members changed)" if u in stale else "")
            for u in application.missing_cosignatures
        ]
        fail(
            f"joint application {application.application_id} lacks the co-signature of {'; '.join(missing)}: "
            "run `elicense joint cosign APP --department USCC --key NAME`"
        )
    account = signing_account(ctx, opts)
    try:
        anchored = desk.anchor(application_id, account)
    except ContractRevertError as exc:
        desk.reopen(application_id)  # the chain refused it: nothing was anchored, fix and anchor again
        names = _names(desk, application)
        named = exc.arguments.get("issuer_id")
        if isinstance(named, bytes) and named not in names and desk.client is not None:
            record = desk.client.get_issuer(named)  # a department the policy names beyond the application's
            if record is not None:
                names[named] = record.name
        fail(explain(exc, names))
    tx = "" if anchored.tx_hash is None else f", tx 0x{anchored.tx_hash.hex()}"
    click.echo(
        f"{anchored.application_id} anchored: bundle 0x{(anchored.bundle_digest or b'').hex()}, "
        f"block {anchored.block_number}{tx}"
    )


@joint.command("show")
@click.argument("application_id")
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
def joint_show(ctx: Context, /, application_id: str, as_json: bool) -> None:
    """Show an application: state, applicant, departments (co-signed yes/no/stale), members, bundle
    digest and anchor."""
    desk = _desk(ctx)
    data = report(desk, desk.get(application_id))
    if as_json:
        click.echo(json.dumps(data, ensure_ascii=False))
    else:
        _echo_report(data)


@joint.command("list")
@click.option("--lead", help="Only the applications this department leads.")
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
def joint_list(ctx: Context, /, lead: str | None, as_json: bool) -> None:
    """List the joint applications of this store (oldest first, at most 100)."""
    desk = _desk(ctx)
    rows = []
    for app_id in desk.list(lead_uscc=validate_uscc(lead, field="--lead") if lead else None):
        a = desk.get(app_id)
        rows.append(
            {
                "application_id": a.application_id,
                "state": a.state,
                "applicant": a.applicant.name,
                "members": len(a.license_ids),
                "missing_cosignatures": len(a.missing_cosignatures),
            }
        )
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False))
        return
    for r in rows:
        click.echo(f"{r['application_id']} {r['state']:9} {r['members']:2} members  {r['applicant']}")


@joint.command("qr")
@click.argument("application_id")
@click.option(
    "--out", "--png", "out", type=click.Path(dir_okay=False, path_type=Path), help="Write the QR image (.png or .svg)."
)
@click.pass_obj
def joint_qr(ctx: Context, /, application_id: str, out: Path | None) -> None:
    """Make the bundle's QR code (联办码, LB1:); print its text and QR version."""
    text = _desk(ctx).presentation(application_id)
    info = qr_info(text)
    if out is not None:
        if out.suffix.lower() not in (".png", ".svg"):
            fail("--out must end in .png or .svg")
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_bytes(render_png(text) if out.suffix.lower() == ".png" else render_svg(text))
    click.echo(text)
    click.echo(
        f"QR version {info.version}, level {info.error}, {len(text)} characters"
        + (f", written to {out}" if out else ""),
        err=True,
    )


def echo_bundle(result: BundleResult, lang: str) -> None:
    """A bundle's verification result, readably (`elicense verify` of a 联办码)."""
    data = result.to_dict()
    zh, en = BUNDLE_HEADLINES[result.status]
    click.echo(f"{result.status.upper()}  {zh if lang == 'zh' else en}")
    for r in result.reasons:
        click.echo(f"  {r.zh if lang == 'zh' else r.en}")
    if data["application_id"]:
        click.echo(f"  application  {data['application_id']}")
    if data["applicant"]:
        click.echo(f"  applicant    {data['applicant']['name']} ({data['applicant']['uscc']})")
    for d in data["departments"]:
        mark = (
            ("已会签" if lang == "zh" else "co-signed")
            if d["approved"]
            else ("未会签" if lang == "zh" else "NOT co-signed")
        )
        click.echo(f"  department   {d['name'] or '-'} ({d['uscc']})  {mark}")
    for m in data["members"]:
        ltype, reason = m["license_type"], m["reason"]
        click.echo(
            f"  member       {ltype[lang]} {m['license_id']}  {m['issuer']['name'] or m['issuer']['uscc']}  "
            f"{m['status'].upper()}  {reason[lang]}"
        )
    if data["joint_anchor"]:
        click.echo(f"  anchored     {data['joint_anchor']['time_iso']} (block {data['joint_anchor']['block_number']})")
    if data["chain"]:
        click.echo(f"  chain state: block {data['chain']['block_number']}, {data['chain']['age_seconds']} s old")


COMMANDS = (joint,)
