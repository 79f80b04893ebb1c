"""The SM2 suite on the command line (docs/signatures.md): a department imports its SM2 key
(``keys import-sm2``) or creates one (``keys create --suite sm2``), makes its binding file
(``keys sm2-proof``: the SM2 key's proof of possession and its account's acceptance) and hands it to
its region authority, who checks it and binds the key on chain (``issuer add-sm2-key``,
``issuer rotate-sm2-key``). ``issuer show`` lists the SM2 keys. Where the files live:
:mod:`api.cli._sm2`."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import click

from api.cli._context import (
    Context,
    chain_now,
    echo_tx,
    fail,
    password_options,
    password_source,
    signer_options,
    signing_account,
    uscc_option,
    when,
)
from api.cli._sm2 import (
    account_keystore_path,
    binding_document,
    distinguishing_id,
    load_sm2_pair,
    read_binding,
    read_certificate,
    sm2_keystore_path,
)
from api.cli.authority import issuer
from api.cli.keys import keys
from registry import OPEN_END, Deployment
from registry.document.identifiers import issuer_id_from_uscc
from signer import create_keystore, import_sm2_keystore, load_account

_MAX_PEM_FILE = 8 * 1024


@keys.command("import-sm2")
@click.argument("name")
@click.argument("pkcs8", type=click.Path(dir_okay=False, exists=True, path_type=Path))
@click.option("--id", "sm2_id", help="The key's distinguishing ID (UTF-8, 1 to 64 bytes; default 1234567812345678).")
@click.option(
    "--certificate",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="The key's X.509 certificate (PEM or DER); it must certify this very key.",
)
@click.option("--pem-password-env", metavar="VAR", help="Variable holding the password of an encrypted PKCS#8 file.")
@password_options
@click.pass_obj
def keys_import_sm2(
    ctx: Context,
    /,
    name: str,
    pkcs8: Path,
    sm2_id: str | None,
    certificate: Path | None,
    pem_password_env: str | None,
    password_env: str | None,
    password_file: Path | None,
) -> None:
    """Import the SM2 key of a PKCS#8 PEM file (e.g. from the department's 国密 key management) into
    HOME/keys/NAME.sm2.json, with its certificate; its anchoring account HOME/keys/NAME.json is
    created too unless it exists (one password for both). Delete the PEM file after importing."""
    account_path, sm2_path = account_keystore_path(ctx, name), sm2_keystore_path(ctx, name)
    if sm2_path.exists():
        fail(f"{sm2_path} exists already; keystores are never overwritten")
    if pkcs8.stat().st_size > _MAX_PEM_FILE:
        fail(f"{pkcs8} is larger than {_MAX_PEM_FILE} bytes; expected one PKCS#8 PEM key")
    pem_password = None
    if pem_password_env is not None:
        pem_password = os.environ.get(pem_password_env)
        if pem_password is None:
            fail(f"environment variable {pem_password_env} (password of {pkcs8}) is not set")
    parsed = None if certificate is None else read_certificate(certificate)
    secret = password_source(password_env, password_file).read(purpose=f"SM2 key {name} and its account", confirm=True)
    address: str | None = load_account(account_path, secret).address if account_path.exists() else None
    key = import_sm2_keystore(
        sm2_path,
        pkcs8,
        secret,
        pem_password=pem_password,
        distinguishing_id=distinguishing_id(sm2_id),
        certificate=None if parsed is None else parsed.der,
    )
    if address is None:
        address = create_keystore(account_path, secret)
    click.echo(f"{name} {address} {account_path}")
    click.echo(f"{name} sm2 0x{key.public_key.hex()} {sm2_path}")
    if parsed is not None:
        click.echo(f"certificate: {parsed.subject}")  # escaped by the parser


@keys.command("sm2-proof")
@click.argument("name")
@uscc_option
@click.option(
    "--certificate",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="Register this certificate of the key (PEM or DER) instead of the one in its keystore.",
)
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the binding file here (default: print it).",
)
@password_options
@click.pass_obj
def keys_sm2_proof(
    ctx: Context,
    /,
    name: str,
    uscc: str,
    certificate: Path | None,
    out: Path | None,
    password_env: str | None,
    password_file: Path | None,
) -> None:
    """Make the binding file of SM2 key NAME for the department --uscc in HOME/deployment.json: the
    SM2 key's proof of possession and its account's acceptance (JSON, no secret). The region
    authority binds the key with it (`issuer add-sm2-key --binding FILE`). Signs offline; nothing is
    sent."""
    account, key, held = load_sm2_pair(ctx, name, password_source(password_env, password_file))
    chosen = held if certificate is None else read_certificate(certificate)
    if chosen is not None and chosen.public_key != key.public_key:
        fail(f"{certificate} certifies another public key than SM2 key {name}'s (0x{key.public_key.hex()[:16]}...)")
    document = binding_document(
        uscc=uscc, account=account, key=key, certificate=chosen, deployment=Deployment.load(ctx.deployment_path)
    )
    text = json.dumps(document, ensure_ascii=False, indent=2)
    if out is None:
        click.echo(text)
        return
    if out.exists():
        fail(f"{out} exists already; give another --out")
    out.write_text(text + "\n", encoding="utf-8")
    click.echo(f"binding of SM2 key {name} (account {account.address}) written to {out}")


def _binding_option(fn: Any) -> Any:
    return click.option(
        "--binding",
        "binding_file",
        required=True,
        type=click.Path(dir_okay=False, exists=True, path_type=Path),
        help="The department's binding file (`elicense keys sm2-proof`).",
    )(fn)


@issuer.command("add-sm2-key")
@uscc_option
@_binding_option
@click.option("--from", "valid_from", help="Start of the window: now (default), YYYY-MM-DD or ISO date-time.")
@click.option("--until", "valid_until", help="End of the window (exclusive); default open-ended.")
@signer_options
@click.pass_obj
def issuer_add_sm2_key(
    ctx: Context, /, uscc: str, binding_file: Path, valid_from: str | None, valid_until: str | None, **opts: Any
) -> None:
    """Add the department's account bound to its SM2 key, from its binding file (region
    authorities). The SM2 proof of possession and the certificate are checked here first: a file
    whose proof fails is refused before anything is sent."""
    client = ctx.client()
    binding = read_binding(binding_file, uscc=uscc, deployment=client.deployment)
    now = chain_now(ctx)
    tx = client.add_sm2_key(
        signing_account(ctx, opts),
        issuer_id_from_uscc(uscc),
        binding.account,
        binding.registration,
        valid_from=when(valid_from, default=now),
        valid_until=when(valid_until, default=OPEN_END),
        acceptance=binding.acceptance,
    )
    echo_tx(f"key {binding.account} added to {binding.uscc}, bound to SM2 key {_short(binding)}", tx)


@issuer.command("rotate-sm2-key")
@uscc_option
@click.argument("old")
@_binding_option
@signer_options
@click.pass_obj
def issuer_rotate_sm2_key(ctx: Context, /, uscc: str, old: str, binding_file: Path, **opts: Any) -> None:
    """End key OLD's window now and add the account of the binding file, bound to its SM2 key (an
    authority, or OLD itself while valid). The proof is checked here first."""
    client = ctx.client()
    binding = read_binding(binding_file, uscc=uscc, deployment=client.deployment)
    tx = client.rotate_sm2_key(
        signing_account(ctx, opts),
        issuer_id_from_uscc(uscc),
        old,
        binding.account,
        binding.registration,
        acceptance=binding.acceptance,
    )
    echo_tx(f"key {old} rotated to {binding.account}, bound to SM2 key {_short(binding)}", tx)


def _short(binding: Any) -> str:
    text = f"0x{binding.registration.public_key.hex()[:16]}..."
    return f"{text} ({binding.subject})" if binding.subject else text


COMMANDS = ()
