"""Licenses, kept by issuing departments, and their verification: license, qr, verify."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import sys
from pathlib import Path
from typing import Any

import click

from api.cli._context import (
    Context,
    echo_tx,
    fail,
    password_options,
    password_source,
    signer_options,
    signing_account,
    uscc_option,
)
from api.cli._sm2 import make_department, open_department_keys
from api.cli.joint import echo_bundle
from api.cli.receipts import write_receipt
from registry import Deployment
from registry.document.identifiers import LicenseIdentifier, validate_uscc
from registry.document.licensetypes import CATALOG, from_day_number, get_type
from registry.document.presentation import present
from registry.document.qr import qr_info, render_png, render_svg
from registry.issuer.department import Department, IssueRequest
from verifier.bundle import BundleResult
from verifier.pipeline import HEADLINES, VerificationResult, Verifier
from verifier.qr import read_qr_image
from verifier.state import ChainClientState

#: Largest issuance input file accepted.
MAX_INPUT_BYTES = 50 * 1024 * 1024
MAX_INPUT_LICENSES = 100_000


@click.group()
def license() -> None:
    """Issue, anchor and manage licenses (issuing departments)."""


def _department(ctx: Context, /, uscc: str, opts: dict[str, Any], *, chain: bool, signs: bool) -> Department:
    """The department --uscc signing with --keystore NAME (SM2 when NAME.sm2.json lies beside it) or
    a development account; a command that only anchors or changes status (not ``signs``) opens the
    account alone."""
    keystore, sm2_key = opts.get("keystore"), None
    if keystore is not None and opts.get("dev_account") is None:
        source = password_source(opts.pop("password_env", None), opts.pop("password_file", None))
        opts.pop("keystore"), opts.pop("dev_account", None)
        account, sm2_key = open_department_keys(ctx.keystore_path(keystore), source, signs=signs)
    else:
        account = signing_account(ctx, opts)
    if chain or ctx.rpc_url is not None:
        client = ctx.client()
        deployment = client.deployment
    else:
        client = None
        if not ctx.deployment_path.exists():
            fail(f"no deployment at {ctx.deployment_path}: licenses are signed for a deployment; deploy first")
        deployment = Deployment.load(ctx.deployment_path)
    store = ctx.store()
    if not signs:  # the account anchors and changes status; nothing is signed
        return Department(issuer_uscc=uscc, store=store, signer=None, client=client, account=account)
    return make_department(
        uscc=uscc, account=account, sm2_key=sm2_key, store=store, deployment=deployment, client=client
    )


def _fields(pairs: tuple[str, ...]) -> dict[str, str]:
    out = {}
    for pair in pairs:
        if "=" not in pair:
            fail(f"--field {pair!r} must look like key=value")
        key, value = pair.split("=", 1)
        out[key.strip()] = value
    return out


def _read_requests(path: Path) -> list[IssueRequest]:
    size = path.stat().st_size
    if size > MAX_INPUT_BYTES:
        fail(f"{path} is {size} bytes; at most {MAX_INPUT_BYTES} are accepted per file")
    text = path.read_text(encoding="utf-8-sig")
    if path.suffix.lower() == ".csv":
        rows: list[Any] = list(csv.DictReader(io.StringIO(text)))
    else:
        try:
            data = json.loads(text)
        except ValueError as exc:
            fail(f"{path} is not valid JSON: {exc}")
        found = data if isinstance(data, list) else data.get("licenses") if isinstance(data, dict) else None
        if not isinstance(found, list):
            fail(f"{path} must hold a JSON array of licenses (or an object with a 'licenses' array)")
        rows = found
    if len(rows) > MAX_INPUT_LICENSES:
        fail(f"{path} holds {len(rows)} licenses; at most {MAX_INPUT_LICENSES} per file")
    return [IssueRequest.from_dict(row, where=f"{path.name} line/item {i + 1}") for i, row in enumerate(rows)]


@license.command("issue")
@uscc_option
@click.option("--type", "type_code", help="License type code: " + ", ".join(CATALOG))
@click.option("--field", "field_pairs", multiple=True, help="A field value, key=value (repeat).")
@click.option("--valid-from", help="First valid day, YYYY-MM-DD (default today).")
@click.option("--valid-to", help="Last valid day, YYYY-MM-DD (default open-ended).")
@click.option(
    "--file",
    "input_file",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="JSON array or CSV file of licenses (columns: type, valid_from, valid_to, then fields).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the issued license ids and digests as JSON.")
@signer_options
@click.pass_obj
def license_issue(
    ctx: Context,
    /,
    uscc: str,
    type_code: str | None,
    field_pairs: tuple[str, ...],
    valid_from: str | None,
    valid_to: str | None,
    input_file: Path | None,
    as_json: bool,
    **opts: Any,
) -> None:
    """Issue one license (--type and --field) or many (--file): validate, commit, sign, store."""
    if input_file is not None:
        if type_code or field_pairs:
            fail("give either --file or --type/--field, not both")
        requests = _read_requests(input_file)
    else:
        if not type_code:
            fail("give --type and --field key=value options, or --file")
        today = dt.datetime.now(dt.timezone(dt.timedelta(hours=8))).date().isoformat()
        requests = [
            IssueRequest.from_dict(
                {"type": type_code, "valid_from": valid_from or today, "valid_to": valid_to, **_fields(field_pairs)},
                where="command line",
            )
        ]
    department = _department(ctx, uscc, opts, chain=False, signs=True)
    if len(requests) > 1 and not as_json:
        with click.progressbar(length=len(requests), label="issuing", file=sys.stderr) as bar:
            rows = department.issue_many(requests, progress=bar.update)
    else:
        rows = department.issue_many(requests)
    if as_json:
        click.echo(json.dumps([{"license_id": r.license_id, "digest": "0x" + r.digest.hex()} for r in rows]))
    else:
        for r in rows[:20]:
            click.echo(f"{r.license_id} 0x{r.digest.hex()}")
        if len(rows) > 20:
            click.echo(f"... {len(rows)} licenses issued in all (not yet anchored: run `elicense license anchor`)")


@license.command("anchor")
@uscc_option
@click.option("--batch-size", default=1000, show_default=True, help="Licenses per batch (one transaction each).")
@signer_options
@click.pass_obj
def license_anchor(ctx: Context, /, uscc: str, batch_size: int, **opts: Any) -> None:
    """Anchor every pending license signed by this key, in Merkle batches."""
    department = _department(ctx, uscc, opts, chain=True, signs=False)
    results = department.anchor_pending(batch_size=batch_size)
    for r in results:
        click.echo(
            f"batch 0x{r.root.hex()}: {r.count} licenses, block {r.tx.block_number}, "
            f"{r.gas_per_license:,.0f} gas per license"
        )
    click.echo(f"{sum(r.count for r in results)} licenses anchored in {len(results)} batches")


def _status_command(name: str, doc: str) -> None:
    @license.command(name, help=doc)
    @uscc_option
    @click.argument("license_ids", nargs=-1, required=True)
    @click.option("--reason", type=int, default=0, show_default=True, help="Reason code (0 to 65535).")
    @signer_options
    @click.pass_obj
    def command(ctx: Context, /, uscc: str, license_ids: tuple[str, ...], reason: int, **opts: Any) -> None:
        department = _department(ctx, uscc, opts, chain=True, signs=False)
        tx = getattr(department, name)(list(license_ids), reason=reason)
        done = {"suspend": "suspended", "reinstate": "reinstated", "revoke": "revoked"}[name]
        echo_tx(f"{len(license_ids)} license(s) {done}", tx)


_status_command("suspend", "Suspend licenses (reversible).")
_status_command("reinstate", "Reinstate suspended licenses.")
_status_command("revoke", "Revoke licenses (final).")


@license.command("amend")
@uscc_option
@click.argument("license_id")
@click.option("--field", "field_pairs", multiple=True, help="A changed field, key=value (repeat).")
@click.option("--valid-to", help="New last valid day, YYYY-MM-DD.")
@click.option("--reason", type=int, default=0, show_default=True)
@signer_options
@click.pass_obj
def license_amend(
    ctx: Context,
    /,
    uscc: str,
    license_id: str,
    field_pairs: tuple[str, ...],
    valid_to: str | None,
    reason: int,
    **opts: Any,
) -> None:
    """Issue the next version of a license with changes and supersede the old one on chain."""
    department = _department(ctx, uscc, opts, chain=True, signs=True)
    end: Any = "unchanged" if valid_to is None else dt.date.fromisoformat(valid_to)
    new, tx = department.amend(license_id, _fields(field_pairs), valid_to=end, reason=reason)
    echo_tx(f"{license_id} superseded by {new.license_id} (anchor the new version with `license anchor`)", tx)


@license.command("show")
@click.argument("license_id")
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
def license_show(ctx: Context, /, license_id: str, as_json: bool) -> None:
    """Show a license from the issuer store (all fields: the store is the issuer's secret)."""
    row = ctx.store().get(str(LicenseIdentifier.parse(license_id)))
    if row is None:
        fail(f"no license {license_id} in {ctx.db_url or ctx.home / 'store.db'}")
    ltype = get_type(row.type_code)
    batch = ctx.store().get_batch(row.batch_root) if row.batch_root else None
    report = {
        "license_id": row.license_id,
        "type": {"code": ltype.code, "zh": ltype.zh, "en": ltype.en},
        "valid_from": from_day_number(row.valid_from).isoformat(),
        "valid_to": None if row.valid_to is None else from_day_number(row.valid_to).isoformat(),
        "fields": {k: ltype.by_key[k].display(v, "zh") for k, v in row.fields.items()},
        "digest": "0x" + row.digest.hex(),
        "signer": row.signer,
        "suite": row.suite.value,
        "status": row.status,
        "superseded_by": row.superseded_by,
        "batch": None
        if batch is None
        else {"root": "0x" + batch.root.hex(), "state": batch.state, "block_number": batch.block_number},
    }
    click.echo(json.dumps(report, ensure_ascii=False, indent=None if as_json else 2))


@license.command("export")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), required=True, help="New file to write.")
@click.option("--uscc", "uscc", help="Only this department's licenses.")
@click.pass_obj
def license_export(ctx: Context, /, out: Path, uscc: str | None) -> None:
    """Export licenses WITH their secrets (salt secrets and every field) as JSON lines.

    The issuer store is the only place these live; an export is the one explicit way out. The file
    is created new with mode 0600 and is never overwritten: keep it as safe as the store.
    """
    import os as _os

    store = ctx.store()
    code = validate_uscc(uscc, field="--uscc") if uscc else None
    try:
        fd = _os.open(out, _os.O_WRONLY | _os.O_CREAT | _os.O_EXCL, 0o600)
    except FileExistsError:
        fail(f"{out} exists already; exports are never overwritten")
    count = 0
    with _os.fdopen(fd, "w", encoding="utf-8") as fh:
        for record in store.export_records(issuer_uscc=code):
            fh.write(json.dumps(record, ensure_ascii=False) + "\n")
            count += 1
    click.echo(f"{count} licenses, with their secrets, written to {out} (mode 0600)")


@click.command("qr")
@click.argument("license_id")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), help="Write the QR image here (.png or .svg).")
@click.option("--disclose", help="Comma-separated fields to disclose (default: the type's usual set).")
@click.option("--all", "disclose_all", is_flag=True, help="Disclose every field.")
@click.pass_obj
def qr_command(ctx: Context, /, license_id: str, out: Path | None, disclose: str | None, disclose_all: bool) -> None:
    """Make the QR code of a license; print its text and QR version."""
    store = ctx.store()
    row = store.get(str(LicenseIdentifier.parse(license_id)))
    if row is None:
        fail(f"no license {license_id} in the issuer store")
    lic = Department.license_of(row)
    chosen: list[str] | None = None
    if disclose_all:
        chosen = list(lic.fields)
    elif disclose:
        chosen = [k.strip() for k in disclose.split(",") if k.strip()]
    text = present(lic, row.signature, chosen, suite=row.suite).to_text()
    info_ = qr_info(text)
    if out is not None:
        suffix = out.suffix.lower()
        if suffix not in (".png", ".svg"):
            fail("--out must end in .png or .svg")
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_bytes(render_png(text) if suffix == ".png" else render_svg(text))
    click.echo(text)
    click.echo(
        f"QR version {info_.version}, level {info_.error}, {len(text)} characters"
        + (f", written to {out}" if out else ""),
        err=True,
    )


@click.command()
@click.option("--text", help="The QR text (LC2:/LC1:... of a license, LB1:... of a joint bundle).")
@click.option(
    "--image", type=click.Path(dir_okay=False, exists=True, path_type=Path), help="A photo or scan of the QR code."
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object with status, reasons and details.")
@click.option("--lang", type=click.Choice(["zh", "en"]), default="zh", show_default=True)
@click.option(
    "--receipt",
    "receipt_out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Also file a receipt of the answer here, signed with --receipt-key (docs/receipts.md).",
)
@click.option("--receipt-key", envvar="ELICENSE_RECEIPT_KEY", help="The receipt key: a name under HOME/keys or a file.")
@password_options
@click.pass_obj
def verify(
    ctx: Context,
    /,
    text: str | None,
    image: Path | None,
    as_json: bool,
    lang: str,
    receipt_out: Path | None,
    receipt_key: str | None,
    password_env: str | None,
    password_file: Path | None,
) -> None:
    """Verify a license, or a joint bundle (联办码), from its QR text or a photo of its QR code (exit 0
    only when valid); with --receipt, file a receipt of the answer signed by the receipt key."""
    if (text is None) == (image is None):
        fail("give exactly one of --text and --image")
    client = ctx.client()
    if image is not None:
        qr_text = read_qr_image(image.read_bytes())
    else:
        assert text is not None
        qr_text = text
    state = ChainClientState(client)
    state.sync()
    verifier = Verifier(state, chain_id=client.deployment.chain_id, license_registry=client.deployment.license_registry)
    checked = verifier.check(qr_text)
    if receipt_out is not None:
        write_receipt(
            ctx,
            checked.to_dict(),
            client=client,
            state=state,
            out=receipt_out,
            key=receipt_key,
            password_env=password_env,
            password_file=password_file,
        )
    if as_json:
        click.echo(json.dumps(checked.to_dict(), ensure_ascii=False))
    elif isinstance(checked, BundleResult):
        echo_bundle(checked, lang)
    else:
        _echo_license(checked, lang)
    sys.exit(0 if checked.ok else 1)


def _echo_license(result: VerificationResult, lang: str) -> None:
    data = result.to_dict()
    zh, en = HEADLINES[result.status]
    click.echo(f"{result.status.value.upper()}  {zh if lang == 'zh' else en}")
    for r in result.reasons:
        click.echo(f"  {r.zh if lang == 'zh' else r.en}")
    if data["license_id"]:
        click.echo(f"  license   {data['license_id']} ({data['license_type']['zh']})")
    if data["issuer"]:
        click.echo(f"  issuer    {data['issuer']['name'] or '-'} ({data['issuer']['uscc']})")
    if data["suite"]:
        subject = f", certificate {data['certificate_subject']}" if data["certificate_subject"] else ""
        click.echo(f"  signature {'国密 SM2' if data['suite'] == 'sm2' else 'secp256k1'}{subject}")
    if data["anchor"]:
        click.echo(f"  anchored  {data['anchor']['time_iso']} (block {data['anchor']['block_number']})")
    for d in (data.get("co_approval") or {}).get("required", []):
        click.echo(f"  co-approval {d['name'] or '-'} ({d['uscc']}): {'yes' if d['approved'] else 'missing'}")
    for f in result.disclosed:
        label = f.label_zh if lang == "zh" else f.label_en
        click.echo(f"  {label}: {f.display_zh if lang == 'zh' else f.display_en}")
    if data["chain"]:
        click.echo(f"  chain state: block {data['chain']['block_number']}, {data['chain']['age_seconds']} s old")


COMMANDS = (license, qr_command, verify)
