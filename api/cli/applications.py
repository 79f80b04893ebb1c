"""Applications (秒批): apply for a license on the licenses already held, and list or export the
decisions for audit."""

from __future__ import annotations

import datetime as dt
import json
import os
import sys
from pathlib import Path
from typing import Any

import click

from api.cli._context import Context, fail, signer_options, uscc_option
from api.cli.licenses import _department, _fields
from registry.document.identifiers import validate_uscc
from registry.document.licensetypes import CATALOG
from registry.issuer.applications import MAX_PAGE, ApplicationBook, apply
from registry.issuer.decisions import Decision
from registry.issuer.department import IssueRequest
from registry.issuer.prerequisites import MAX_PREREQUISITE_TEXTS
from verifier.pipeline import Verifier
from verifier.qr import MAX_IMAGE_BYTES, read_qr_image
from verifier.state import ChainClientState


def _image_text(path: Path) -> str:
    size = path.stat().st_size
    if size > MAX_IMAGE_BYTES:
        fail(f"{path} is {size} bytes; an image of a QR code is at most {MAX_IMAGE_BYTES}")
    return read_qr_image(path.read_bytes())


@click.command("apply")
@uscc_option
@click.option("--type", "type_code", required=True, help="License type applied for: " + ", ".join(CATALOG))
@click.option("--field", "field_pairs", multiple=True, help="A field value, key=value (repeat).")
@click.option("--valid-from", help="First valid day, YYYY-MM-DD (default today).")
@click.option("--valid-to", help="Last valid day, YYYY-MM-DD (default open-ended).")
@click.option(
    "--prerequisite-text", "texts", multiple=True, help="QR text (LC2:... or LC1:...) of a license held (repeat)."
)
@click.option(
    "--prerequisite-image",
    "images",
    multiple=True,
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="A photo or scan of the QR code of a license held (repeat).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the decision as one JSON object.")
@click.option("--lang", type=click.Choice(["zh", "en"]), default="zh", show_default=True)
@signer_options
@click.pass_obj
def apply_command(
    ctx: Context,
    /,
    uscc: str,
    type_code: str,
    field_pairs: tuple[str, ...],
    valid_from: str | None,
    valid_to: str | None,
    texts: tuple[str, ...],
    images: tuple[Path, ...],
    as_json: bool,
    lang: str,
    **opts: Any,
) -> None:
    """Decide an application with the chain's state: every prerequisite is verified as a counter
    would, the type's rules are checked, and the license is signed at once when all pass. The
    decision is recorded either way (exit 0 when accepted, 1 when refused)."""
    if len(texts) + len(images) > MAX_PREREQUISITE_TEXTS:
        fail(f"give at most {MAX_PREREQUISITE_TEXTS} prerequisites (--prerequisite-text and --prerequisite-image)")
    today = dt.datetime.now(dt.timezone(dt.timedelta(hours=8))).date().isoformat()
    request = IssueRequest.from_dict(
        {"type": type_code, "valid_from": valid_from or today, "valid_to": valid_to, "fields": _fields(field_pairs)},
        where="command line",
    )
    qr_texts = [*texts, *(_image_text(p) for p in images)]
    department = _department(ctx, uscc, opts, chain=True, signs=True)
    client = ctx.client()
    state = ChainClientState(client)
    state.sync()
    d = client.deployment
    verifier = Verifier(state, chain_id=d.chain_id, license_registry=d.license_registry)
    decision = apply(department, verifier, request, qr_texts)
    if as_json:
        click.echo(json.dumps(decision.to_dict(texts=False), ensure_ascii=False))
    else:
        _echo(decision, lang, department.presentation(decision.license_id).to_text() if decision.license_id else None)
    sys.exit(0 if decision.accepted else 1)


def _echo(decision: Decision, lang: str, qr_text: str | None) -> None:
    zh = lang == "zh"
    head = {"accepted": ("准予许可", "ACCEPTED"), "refused": ("不予许可", "REFUSED")}[decision.outcome]
    click.echo(f"{decision.outcome.upper()}  {head[0] if zh else head[1]}  (decision {decision.decision_id})")
    for r in decision.rules:
        click.echo(f"  {'✓' if r.passed else '✗'} {r.prerequisite}/{r.rule}: {r.zh if zh else r.en}")
    click.echo(f"  chain state: block {decision.block_number} 0x{decision.block_hash.hex()}")
    if decision.license_id and decision.digest:
        click.echo(f"  license {decision.license_id} 0x{decision.digest.hex()} (anchor it with `license anchor`)")
    if qr_text:
        click.echo(qr_text)


@click.group()
def applications() -> None:
    """Decisions on applications (秒批), with their evidence."""


@applications.command("list")
@click.option("--uscc", "uscc", help="Only this department's decisions.")
@click.option("--limit", type=click.IntRange(1, MAX_PAGE), default=100, show_default=True)
@click.option("--offset", type=click.IntRange(0), default=0, show_default=True)
@click.pass_obj
def applications_list(ctx: Context, /, uscc: str | None, limit: int, offset: int) -> None:
    """Decisions in the order they were made, one JSON object a line (without the QR texts)."""
    code = validate_uscc(uscc, field="--uscc") if uscc else None
    for record in ApplicationBook(ctx.store()).list_decisions(issuer_uscc=code, limit=limit, offset=offset):
        click.echo(json.dumps(record, ensure_ascii=False))


@applications.command("export")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), required=True, help="New file to write.")
@click.option("--uscc", "uscc", help="Only this department's decisions.")
@click.pass_obj
def applications_export(ctx: Context, /, out: Path, uscc: str | None) -> None:
    """Export every decision with its evidence and the QR texts presented, as JSON lines, for
    audit. The file is created new with mode 0600 and never overwritten."""
    code = validate_uscc(uscc, field="--uscc") if uscc else None
    book = ApplicationBook(ctx.store())
    try:
        fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        fail(f"{out} exists already; exports are never overwritten")
    count = 0
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        for record in book.export_records(issuer_uscc=code):
            fh.write(json.dumps(record, ensure_ascii=False) + "\n")
            count += 1
    click.echo(f"{count} decisions, with their evidence, written to {out} (mode 0600)")


COMMANDS = (apply_command, applications)
