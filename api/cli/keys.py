"""Encrypted signing keys of this home: create, import, accept, list."""

from __future__ import annotations

from pathlib import Path

import click

from api.cli._context import Context, fail, key_name, password_options, password_source, uscc_option
from registry import Deployment
from registry.document.identifiers import issuer_id_from_uscc
from signer import SignerError, create_keystore, import_keystore, keystore_address, load_account, sign_key_acceptance


@click.group()
def keys() -> None:
    """Encrypted signing keys (HOME/keys/NAME.json)."""


@keys.command("create")
@click.argument("name")
@password_options
@click.pass_obj
def keys_create(ctx: Context, /, name: str, password_env: str | None, password_file: Path | None) -> None:
    """Generate a key and store it encrypted (scrypt) as HOME/keys/NAME.json."""
    path = ctx.keys_dir / f"{key_name(name)}.json"
    secret = password_source(password_env, password_file).read(purpose=f"new key {name}", confirm=True)
    address = create_keystore(path, secret)
    click.echo(f"{name} {address} {path}")


@keys.command("import")
@click.argument("name")
@click.option(
    "--private-key-file",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    required=True,
    help="File holding the hex private key (delete it after importing).",
)
@password_options
@click.pass_obj
def keys_import(
    ctx: Context, /, name: str, private_key_file: Path, password_env: str | None, password_file: Path | None
) -> None:
    """Import a hex private key into an encrypted keystore HOME/keys/NAME.json."""
    path = ctx.keys_dir / f"{key_name(name)}.json"
    if private_key_file.stat().st_size > 200:
        fail(f"{private_key_file} is too large for a private key file")
    text = private_key_file.read_text(encoding="ascii", errors="replace").strip().removeprefix("0x")
    if len(text) != 64 or any(c not in "0123456789abcdefABCDEF" for c in text):
        fail(f"{private_key_file} must hold a 32-byte private key as 64 hex digits")
    secret = password_source(password_env, password_file).read(purpose=f"new key {name}", confirm=True)
    address = import_keystore(path, bytes.fromhex(text), secret)
    click.echo(f"{name} {address} {path}")


@keys.command("accept")
@click.argument("name")
@uscc_option
@password_options
@click.pass_obj
def keys_accept(ctx: Context, /, name: str, uscc: str, password_env: str | None, password_file: Path | None) -> None:
    """Print key NAME's acceptance of becoming a key of the department --uscc, for the trust registry
    of HOME/deployment.json: the region authority passes it to `issuer add-key` or `issuer
    rotate-key` with --acceptance. Signs offline; nothing is sent."""
    path = ctx.keystore_path(name)
    account = load_account(path, password_source(password_env, password_file).read(purpose=str(path)))
    deployment = Deployment.load(ctx.deployment_path)
    acceptance = sign_key_acceptance(
        account,
        issuer_id=issuer_id_from_uscc(uscc),
        chain_id=deployment.chain_id,
        trust_registry=deployment.trust_registry,
    )
    click.echo("0x" + acceptance.hex())


@keys.command("list")
@click.pass_obj
def keys_list(ctx: Context) -> None:
    """List the keystores of this home (name and address; nothing is decrypted)."""
    if not ctx.keys_dir.is_dir():
        return
    for path in sorted(ctx.keys_dir.glob("*.json")):
        try:
            click.echo(f"{path.stem} {keystore_address(path)}")
        except SignerError as exc:
            click.echo(f"{path.stem} unreadable: {exc}")


COMMANDS = (keys,)
