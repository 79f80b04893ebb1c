"""The ``elicense`` command line.

Every command takes ``--home DIR`` (keystores, deployment addresses; default ``$ELICENSE_HOME`` or
``~/.elicense``) and ``--rpc-url URL`` (default ``$ELICENSE_RPC_URL``, else a fresh in-process
chain that lives only as long as the command).
"""

from __future__ import annotations

import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

import click
from eth_account.signers.local import LocalAccount
from web3 import Web3

from registry import Deployment, RegistryClient, RegistryError, connect, dev_accounts
from registry.devchain import is_dev_chain
from signer import PasswordSource, SignerError, create_keystore, import_keystore, keystore_address, load_account

_NAME_CHARS = set("abcdefghijklmnopqrstuvwxyz0123456789-_")


@dataclass
class Context:
    home: Path
    rpc_url: str | None
    _w3: Web3 | None = None

    @property
    def deployment_path(self) -> Path:
        return self.home / "deployment.json"

    @property
    def keys_dir(self) -> Path:
        return self.home / "keys"

    def w3(self) -> Web3:
        if self._w3 is None:
            self._w3 = connect(self.rpc_url)
        return self._w3

    def client(self) -> RegistryClient:
        if self.rpc_url is None:
            fail(
                "this command needs a chain that outlives it: give --rpc-url (the in-process chain "
                "exists only for the duration of one command)"
            )
        return RegistryClient(self.w3(), Deployment.load(self.deployment_path))


def fail(message: str) -> NoReturn:
    click.echo(f"error: {message}", err=True)
    sys.exit(2)


def _key_name(name: str) -> str:
    if not name or len(name) > 64 or not set(name) <= _NAME_CHARS:
        fail(f"key name {name!r} must be 1 to 64 characters of a-z, 0-9, '-' and '_'")
    return name


def _password_options(fn: Any) -> Any:
    fn = click.option(
        "--password-file",
        type=click.Path(dir_okay=False, path_type=Path),
        help="Read the keystore password from this file (first line).",
    )(fn)
    return click.option(
        "--password-env", metavar="VAR", help="Read the keystore password from this environment variable."
    )(fn)


def _password(password_env: str | None, password_file: Path | None) -> PasswordSource:
    return PasswordSource(env=password_env, file=password_file, prompt=sys.stdin.isatty())


def _signer(ctx: Context, keystore: str | None, dev_account: int | None, password: PasswordSource) -> LocalAccount:
    if keystore is not None and dev_account is not None:
        fail("give either --keystore or --dev-account, not both")
    if keystore is not None:
        path = Path(keystore) if ("/" in keystore or keystore.endswith(".json")) else ctx.keys_dir / f"{keystore}.json"
        return load_account(path, password.read(purpose=str(path)))
    w3 = ctx.w3()
    if not is_dev_chain(w3):
        fail("this chain is not a development chain: sign with --keystore NAME|FILE")
    index = dev_account or 0
    if not 0 <= index < 10:
        fail("--dev-account must be from 0 to 9")
    return dev_accounts(w3)[index]


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.option(
    "--home",
    type=click.Path(file_okay=False, path_type=Path),
    default=lambda: os.environ.get("ELICENSE_HOME", str(Path.home() / ".elicense")),
    show_default="$ELICENSE_HOME or ~/.elicense",
    help="Directory for keystores and deployment addresses.",
)
@click.option(
    "--rpc-url",
    default=lambda: os.environ.get("ELICENSE_RPC_URL"),
    show_default="$ELICENSE_RPC_URL, else an in-process chain",
    help="JSON-RPC URL of the chain, e.g. http://127.0.0.1:8545.",
)
@click.pass_context
def cli(click_ctx: click.Context, home: Path, rpc_url: str | None) -> None:
    """Blockchain-anchored e-license registry."""
    click_ctx.obj = Context(home=home, rpc_url=rpc_url or None)


@cli.command()
@click.option("--keystore", help="Deployer keystore: a name under HOME/keys or a file path.")
@click.option("--dev-account", type=int, help="Use development account N (in-process chain or Hardhat node).")
@click.option("--admin", help="First federation admin (default: the deployer).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@_password_options
@click.pass_obj
def deploy(
    ctx: Context,
    keystore: str | None,
    dev_account: int | None,
    admin: str | None,
    as_json: bool,
    password_env: str | None,
    password_file: Path | None,
) -> None:
    """Deploy the trust and license registries and print their addresses and gas used.

    On a real chain (--rpc-url) the addresses are saved to HOME/deployment.json for the other
    commands; an existing deployment is never overwritten.
    """
    if ctx.rpc_url is not None and ctx.deployment_path.exists():
        fail(f"{ctx.deployment_path} exists already; use another --home to deploy again")
    sender = _signer(ctx, keystore, dev_account, _password(password_env, password_file))
    _, result = RegistryClient.deploy(ctx.w3(), sender, admin=admin)
    d = result.deployment
    if ctx.rpc_url is not None:
        d.save(ctx.deployment_path)
    report = {
        "chain_id": d.chain_id,
        "block_number": d.block_number,
        "deployer": d.deployer,
        "trust_registry": d.trust_registry,
        "license_registry": d.license_registry,
        "gas_used": {
            "TrustRegistry": result.trust_registry_gas,
            "LicenseRegistry": result.license_registry_gas,
            "total": result.trust_registry_gas + result.license_registry_gas,
        },
        "saved_to": str(ctx.deployment_path) if ctx.rpc_url is not None else None,
    }
    if as_json:
        click.echo(json.dumps(report))
        return
    where = ctx.rpc_url or "the in-process chain"
    click.echo(f"Deployed on {where} (chain id {d.chain_id}, block {d.block_number}) by {d.deployer}")
    click.echo(f"  TrustRegistry    {d.trust_registry}   gas {result.trust_registry_gas:>10,}")
    click.echo(f"  LicenseRegistry  {d.license_registry}   gas {result.license_registry_gas:>10,}")
    click.echo(f"  total gas {result.trust_registry_gas + result.license_registry_gas:,}")
    if ctx.rpc_url is None:
        click.echo("The in-process chain ends with this command; give --rpc-url to deploy on a lasting chain.")
    else:
        click.echo(f"Saved to {ctx.deployment_path}")


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@click.pass_obj
def info(ctx: Context, as_json: bool) -> None:
    """Show the chain head and the deployment of this home."""
    client = ctx.client()
    head = client.w3.eth.get_block("latest")
    report = {
        **client.deployment.to_dict(),
        "head_block": int(head["number"]),
        "head_time": int(head["timestamp"]),
    }
    if as_json:
        click.echo(json.dumps(report))
    else:
        for k, v in report.items():
            click.echo(f"{k:18} {v}")


@cli.group()
def keys() -> None:
    """Encrypted signing keys (HOME/keys/NAME.json)."""


@keys.command("create")
@click.argument("name")
@_password_options
@click.pass_obj
def keys_create(ctx: Context, name: str, password_env: str | None, password_file: Path | None) -> None:
    """Generate a key and store it encrypted (scrypt) as HOME/keys/NAME.json."""
    path = ctx.keys_dir / f"{_key_name(name)}.json"
    password = _password(password_env, password_file).read(purpose=f"new key {name}", confirm=True)
    address = create_keystore(path, password)
    click.echo(f"{name} {address} {path}")


@keys.command("import")
@click.argument("name")
@click.option(
    "--private-key-file",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    required=True,
    help="File holding the hex private key (delete it after importing).",
)
@_password_options
@click.pass_obj
def keys_import(
    ctx: Context, name: str, private_key_file: Path, password_env: str | None, password_file: Path | None
) -> None:
    """Import a hex private key into an encrypted keystore HOME/keys/NAME.json."""
    path = ctx.keys_dir / f"{_key_name(name)}.json"
    text = private_key_file.read_text(encoding="ascii", errors="replace").strip().removeprefix("0x")
    if len(text) != 64 or any(c not in "0123456789abcdefABCDEF" for c in text):
        fail(f"{private_key_file} must hold a 32-byte private key as 64 hex digits")
    password = _password(password_env, password_file).read(purpose=f"new key {name}", confirm=True)
    address = import_keystore(path, bytes.fromhex(text), password)
    click.echo(f"{name} {address} {path}")


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


def main() -> None:
    try:
        cli(standalone_mode=True)
    except (RegistryError, SignerError) as exc:
        fail(str(exc))


if __name__ == "__main__":
    main()
