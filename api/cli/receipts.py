"""Verification receipts (无证明, docs/receipts.md): a verifying service's receipt key (receipt key
create, show), and a relying department's checks of a filed receipt: offline (receipt verify) and
against the chain (receipt check)."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

import click

from api.cli._context import Context, fail, key_name, password_options, password_source
from registry import Deployment, RegistryClient
from verifier.receipt_check import check_receipt_against_chain, receipt_for_client_state
from verifier.receipt_keys import public_key_of
from verifier.receipts import (
    MAX_RECEIPT_BYTES,
    ReceiptError,
    VerifierIdentity,
    VerifierPublicKey,
    parse_receipt,
    verify_receipt,
)
from verifier.state import EventIndex

__all__ = ["COMMANDS", "write_receipt"]


def _key_path(ctx: Context, name: str) -> Path:
    if "/" in name or name.endswith(".json"):
        return Path(name)
    return ctx.keys_dir / f"{key_name(name)}.json"


def load_identity(ctx: Context, name: str, password_env: str | None, password_file: Path | None) -> VerifierIdentity:
    path = _key_path(ctx, name)
    return VerifierIdentity.load(path, password_source(password_env, password_file).read(purpose=str(path)))


def write_receipt(
    ctx: Context,
    /,
    result: dict[str, Any],
    *,
    client: RegistryClient,
    state: EventIndex,
    out: Path,
    key: str | None,
    password_env: str | None,
    password_file: Path | None,
) -> None:
    """Sign a receipt of ``result`` with the receipt key ``key`` and file it at ``out`` (never
    overwriting a receipt filed before)."""
    if key is None:
        fail("--receipt needs a receipt key: --receipt-key NAME (made with `elicense receipt key create NAME`)")
    identity = load_identity(ctx, key, password_env, password_file)
    signed = receipt_for_client_state(result, identity, client, state)
    try:
        fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    except FileExistsError:
        fail(f"{out} exists already; a filed receipt is never overwritten")
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump(signed, fh, ensure_ascii=False, indent=1)
    click.echo(f"receipt {signed['receipt']['receipt_id']} signed by {identity.service_id}, written to {out}", err=True)


@click.group()
def receipt() -> None:
    """Verification receipts: the service's key, and checking a filed receipt."""


@receipt.group("key")
def key_group() -> None:
    """The receipt signing key of a verifying service."""


@key_group.command("create")
@click.argument("name")
@click.option("--service-id", required=True, help="The service's id, e.g. a region code and a name: 310000-verify.")
@password_options
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), help="Also write the public key here.")
@click.pass_obj
def key_create(
    ctx: Context, /, name: str, service_id: str, password_env: str | None, password_file: Path | None, out: Path | None
) -> None:
    """Create a receipt key NAME under HOME/keys (Ed25519, encrypted); print its public key."""
    path = _key_path(ctx, name)
    password = password_source(password_env, password_file).read(purpose=str(path), confirm=True)
    try:
        identity = VerifierIdentity.generate(service_id)
    except ReceiptError as exc:
        fail(str(exc))
    identity.save(path, password)
    published = json.dumps(identity.public.to_dict(), indent=1)
    if out is not None:
        out.write_text(published + "\n", encoding="utf-8")
    click.echo(published)
    click.echo(f"receipt key written to {path}", err=True)


@key_group.command("show")
@click.argument("name")
@click.pass_obj
def key_show(ctx: Context, /, name: str) -> None:
    """Print the public key of receipt key NAME (what relying departments trust)."""
    click.echo(json.dumps(public_key_of(_key_path(ctx, name)).to_dict(), indent=1))


def _read_receipt(path: Path) -> bytes:
    try:
        with path.open("rb") as fh:
            data = fh.read(MAX_RECEIPT_BYTES + 1)
    except OSError as exc:
        fail(f"cannot read {path}: {exc.strerror}")
    return data


def _trusted(values: tuple[str, ...]) -> list[VerifierPublicKey | bytes]:
    keys: list[VerifierPublicKey | bytes] = []
    for value in values:
        path = Path(value)
        text = value
        if not (len(value.removeprefix("0x")) == 64 and not path.exists()):
            try:
                text = path.read_text(encoding="utf-8")[:4097]
            except OSError as exc:
                fail(f"--trust {value}: not 64 hex digits, and cannot read it as a key file: {exc.strerror}")
        try:
            keys.append(VerifierPublicKey.parse(text))
        except ReceiptError as exc:
            fail(f"--trust {value}: {exc}")
    return keys


@receipt.command("verify")
@click.argument("file", type=click.Path(dir_okay=False, exists=True, path_type=Path))
@click.option(
    "--trust",
    multiple=True,
    required=True,
    help="A verifier key trusted: its published key file (GET /v1/receipts/key) or its 64 hex digits.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the check and the receipt as JSON.")
def verify_command(file: Path, trust: tuple[str, ...], as_json: bool) -> None:
    """Check a receipt offline: its form and its signature by a trusted verifier (exit 0 only then)."""
    check = verify_receipt(_read_receipt(file), _trusted(trust))
    if as_json:
        receipt_json = None if check.receipt is None else check.receipt.to_dict()
        click.echo(json.dumps({"code": check.code, "detail": check.detail, "receipt": receipt_json}))
    else:
        click.echo(f"{check.code.upper()}  {check.detail}")
        if check.ok and check.receipt is not None:
            r = check.receipt
            click.echo(f"  {r.kind} {r.subject or '-'}: {r.status} ({', '.join(r.reasons) or '-'})")
            click.echo(f"  digest {r.digest or '-'}, issuer {r.issuer or '-'}")
            click.echo(f"  chain {r.chain_id}, block {r.block_number} ({r.block_hash}), checked at {r.checked_at}")
    sys.exit(0 if check.ok else 1)


@receipt.command("check")
@click.argument("file", type=click.Path(dir_okay=False, exists=True, path_type=Path))
@click.option("--rpc-url", help="JSON-RPC URL of the chain (default: the global --rpc-url).")
@click.option(
    "--deployment",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="The registry's deployment file (default: HOME/deployment.json).",
)
@click.option("--trust", multiple=True, help="Also check the signature first, against these verifier keys.")
@click.option("--json", "as_json", is_flag=True, help="Print the check as JSON.")
@click.pass_obj
def check_command(
    ctx: Context,
    /,
    file: Path,
    rpc_url: str | None,
    deployment: Path | None,
    trust: tuple[str, ...],
    as_json: bool,
) -> None:
    """Check a receipt against the chain: was its answer right at its block? (exit 0 only then)"""
    data = _read_receipt(file)
    if trust:
        signed = verify_receipt(data, _trusted(trust))
        if not signed.ok:
            click.echo(f"{signed.code.upper()}  {signed.detail}")
            sys.exit(1)
    try:
        parsed, _ = parse_receipt(data)
    except ReceiptError as exc:
        fail(str(exc))
    if rpc_url:
        ctx.rpc_url = rpc_url
    client = ctx.client() if deployment is None else RegistryClient(ctx.w3(), Deployment.load(deployment))
    found = check_receipt_against_chain(parsed, client)
    if as_json:
        click.echo(
            json.dumps(
                {
                    "verdict": found.verdict,
                    "detail": found.detail,
                    "receipt_status": found.receipt_status,
                    "chain_status": found.chain_status,
                    "status_now": found.status_now,
                    "head": found.head,
                }
            )
        )
    else:
        click.echo(f"{found.verdict.upper()}  {found.detail}")
    sys.exit(0 if found.agrees else 1)


COMMANDS = (receipt,)
