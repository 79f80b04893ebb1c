"""Encrypted keys of this home: signing keys (create, import, accept), co-signing keys (create
--co-signing, co-signing-proof), SM2 keys (create --suite sm2; import-sm2 and sm2-proof are in
:mod:`api.cli.sm2`), list."""

from __future__ import annotations

import json
from pathlib import Path

import click

from api.cli._context import Context, fail, key_name, password_options, password_source, uscc_option
from api.cli._sm2 import account_keystore_path, distinguishing_id, sm2_keystore_path
from registry import Deployment
from registry.document.identifiers import issuer_id_from_uscc
from signer import (
    CO_SIGNING_KIND,
    SM2_KIND,
    PasswordSource,
    SignerError,
    co_signing_key_id,
    create_co_signing_keystore,
    create_keystore,
    create_sm2_keystore,
    import_keystore,
    keystore_address,
    load_account,
    load_co_signing_key,
    sign_key_acceptance,
)

#: Largest keystore file ``keys list`` reads to tell its kind (a keystore is about 500 bytes).
_MAX_KEYSTORE_BYTES = 16 * 1024


@click.group()
def keys() -> None:
    """Encrypted keys (HOME/keys/NAME.json): signing keys, co-signing keys, SM2 keys (NAME.sm2.json)."""


@keys.command("create")
@click.argument("name")
@click.option(
    "--co-signing",
    is_flag=True,
    help="A co-signing key (BLS12-381) for joint applications instead of a signing key.",
)
@click.option(
    "--suite",
    type=click.Choice(["secp256k1", "sm2"]),
    default="secp256k1",
    show_default=True,
    help="sm2: an SM2 key (国密 SM2/SM3) in NAME.sm2.json, beside its anchoring account NAME.json "
    "(created too unless it exists).",
)
@click.option(
    "--id", "sm2_id", help="The SM2 key's distinguishing ID (UTF-8, 1 to 64 bytes; default 1234567812345678)."
)
@password_options
@click.pass_obj
def keys_create(
    ctx: Context,
    /,
    name: str,
    co_signing: bool,
    suite: str,
    sm2_id: str | None,
    password_env: str | None,
    password_file: Path | None,
) -> None:
    """Generate a key and store it encrypted (scrypt) as HOME/keys/NAME.json; print its name, its
    address (a co-signing key: its key id) and the file. With --suite sm2: an SM2 key in
    HOME/keys/NAME.sm2.json and its anchoring account in NAME.json (one password for both); print
    both."""
    if suite == "sm2":
        if co_signing:
            fail("give --co-signing or --suite sm2, not both")
        _create_sm2(ctx, name, distinguishing_id(sm2_id), password_source(password_env, password_file))
        return
    if sm2_id is not None:
        fail("--id is the distinguishing ID of an SM2 key: give it with --suite sm2")
    path = ctx.keys_dir / f"{key_name(name)}.json"
    if path.exists():
        fail(f"{path} exists already; keystores are never overwritten")
    secret = password_source(password_env, password_file).read(purpose=f"new key {name}", confirm=True)
    if co_signing:
        key = create_co_signing_keystore(path, secret)
        click.echo(f"{name} 0x{key.key_id.hex()} {path}")
        return
    address = create_keystore(path, secret)
    click.echo(f"{name} {address} {path}")


def _create_sm2(ctx: Context, name: str, sm2_id: bytes, source: PasswordSource) -> None:
    account_path, sm2_path = account_keystore_path(ctx, name), sm2_keystore_path(ctx, name)
    if sm2_path.exists():
        fail(f"{sm2_path} exists already; keystores are never overwritten")
    secret = source.read(purpose=f"new SM2 key {name} and its account", confirm=True)
    address: str
    if account_path.exists():
        address = load_account(account_path, secret).address  # the same password opens both
    else:
        address = create_keystore(account_path, secret)
    key = create_sm2_keystore(sm2_path, secret, distinguishing_id=sm2_id)
    click.echo(f"{name} {address} {account_path}")
    click.echo(f"{name} sm2 0x{key.public_key.hex()} {sm2_path}")


@keys.command("co-signing-proof")
@click.argument("name")
@password_options
@click.pass_obj
def keys_co_signing_proof(ctx: Context, /, name: str, password_env: str | None, password_file: Path | None) -> None:
    """Print co-signing key NAME's public key (48 bytes), key id and proof of possession (96 bytes)
    as JSON: the region authority registers the key with them (`issuer add-co-signing-key
    --public-key --proof`) without ever holding its secret. Nothing is sent."""
    path = ctx.keystore_path(name)
    key = load_co_signing_key(path, password_source(password_env, password_file).read(purpose=str(path)))
    report = {
        "name": name,
        "public_key": "0x" + key.public_key.hex(),
        "key_id": "0x" + key.key_id.hex(),
        "proof_of_possession": "0x" + key.proof_of_possession().hex(),
    }
    click.echo(json.dumps(report))


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


def _describe(path: Path) -> tuple[str, str]:
    """(kind, address or key id) of a keystore, read without decrypting it."""
    if path.stat().st_size <= _MAX_KEYSTORE_BYTES:
        try:
            document = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            document = None
        if isinstance(document, dict) and document.get("kind") == CO_SIGNING_KIND:
            public_key = document.get("publicKey")
            try:
                key_id = co_signing_key_id(bytes.fromhex(public_key)) if isinstance(public_key, str) else None
            except ValueError:  # not hex: the signer's own errors are ValueErrors too
                key_id = None
            if key_id is None:
                raise SignerError(f"{path} records no valid co-signing public key")
            return "co-signing", "0x" + key_id.hex()
        if isinstance(document, dict) and document.get("kind") == SM2_KIND:
            public_key = document.get("publicKey")
            if not isinstance(public_key, str) or len(public_key) != 128:
                raise SignerError(f"{path} records no valid SM2 public key")
            return "sm2", "0x" + public_key
    return "signing", keystore_address(path)


@keys.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array of {name, kind, address|key_id|public_key}.")
@click.pass_obj
def keys_list(ctx: Context, /, as_json: bool) -> None:
    """List the keystores of this home: name, kind (signing, co-signing or sm2) and address (a
    signing key), key id (a co-signing key) or public key (an SM2 key, NAME.sm2); nothing is decrypted."""
    rows: list[dict[str, str]] = []
    paths = sorted(ctx.keys_dir.glob("*.json")) if ctx.keys_dir.is_dir() else []
    for path in paths:
        try:
            kind, ref = _describe(path)
        except SignerError as exc:
            rows.append({"name": path.stem, "kind": "unreadable", "error": str(exc)})
            continue
        label = {"co-signing": "key_id", "sm2": "public_key"}.get(kind, "address")
        rows.append({"name": path.name.removesuffix(".json"), "kind": kind, label: ref})
    if as_json:
        click.echo(json.dumps(rows))
        return
    for row in rows:
        shown = row.get("address") or row.get("key_id") or row.get("public_key") or row.get("error")
        click.echo(f"{row['name']} {row['kind']} {shown}")


COMMANDS = (keys,)
