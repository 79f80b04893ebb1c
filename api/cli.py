"""The ``elicense`` command line.

Every command takes ``--home DIR`` (keystores, deployment addresses, the issuer store; default
``$ELICENSE_HOME`` or ``~/.elicense``) and ``--rpc-url URL`` (default ``$ELICENSE_RPC_URL``,
else a fresh in-process chain that lives only as long as the command).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import click
from eth_account.signers.local import LocalAccount
from web3 import Web3

from api.redaction import display_url
from devkit.demo import run_demo
from devkit.devchain import is_dev_chain
from registry import (
    OPEN_END,
    Deployment,
    RegistryClient,
    RegistryError,
    connect,
    dev_accounts,
)
from registry.document.identifiers import (
    FieldValueError,
    LicenseIdentifier,
    issuer_id_from_uscc,
    region_name,
    validate_region,
    validate_uscc,
)
from registry.document.licensetypes import CATALOG, from_day_number, get_type
from registry.document.presentation import present
from registry.document.qr import qr_info, render_png, render_svg
from registry.issuer.department import Department, IssueRequest
from registry.issuer.store import IssuerStore
from signer import (
    LicenseSigner,
    PasswordSource,
    SignerError,
    create_keystore,
    import_keystore,
    keystore_address,
    load_account,
    sign_key_acceptance,
)
from verifier.pipeline import HEADLINES, Verifier
from verifier.qr import read_qr_image
from verifier.state import ChainClientState

F = TypeVar("F", bound=Callable[..., Any])

_NAME_CHARS = set("abcdefghijklmnopqrstuvwxyz0123456789-_")
#: Largest issuance input file accepted.
MAX_INPUT_BYTES = 50 * 1024 * 1024
MAX_INPUT_LICENSES = 100_000


@dataclass
class Context:
    home: Path
    rpc_url: str | None
    db_url: str | None
    _w3: Web3 | None = None
    _client: RegistryClient | None = None

    @property
    def deployment_path(self) -> Path:
        return self.home / "deployment.json"

    @property
    def keys_dir(self) -> Path:
        return self.home / "keys"

    def keystore_path(self, keystore: str) -> Path:
        """A keystore given as a name under HOME/keys or as a file path."""
        if "/" in keystore or keystore.endswith(".json"):
            return Path(keystore)
        return self.keys_dir / f"{keystore}.json"

    def w3(self) -> Web3:
        if self._w3 is None:
            self._w3 = connect(self.rpc_url)
        return self._w3

    def client(self) -> RegistryClient:
        if self._client is None:
            if self.rpc_url is None:
                fail(
                    "this command needs a chain that outlives it: give --rpc-url (the in-process chain "
                    "exists only for the duration of one command; `elicense demo` shows everything on it)"
                )
            self._client = RegistryClient(self.w3(), Deployment.load(self.deployment_path))
        return self._client

    def store(self) -> IssuerStore:
        return IssuerStore(self.db_url) if self.db_url else IssuerStore.at(self.home / "store.db")


def fail(message: str) -> NoReturn:
    click.echo(f"error: {message}", err=True)
    sys.exit(2)


def _key_name(name: str) -> str:
    if not name or len(name) > 64 or not set(name) <= _NAME_CHARS:
        fail(f"key name {name!r} must be 1 to 64 characters of a-z, 0-9, '-' and '_'")
    return name


def _password_options(fn: F) -> F:
    fn = click.option(
        "--password-file",
        type=click.Path(dir_okay=False, path_type=Path),
        help="Read the keystore password from this file (first line).",
    )(fn)
    return click.option(
        "--password-env", metavar="VAR", help="Read the keystore password from this environment variable."
    )(fn)


def _signer_options(fn: F) -> F:
    fn = _password_options(fn)
    fn = click.option(
        "--dev-account", type=int, help="Sign with development account N (in-process chain or Hardhat node)."
    )(fn)
    return click.option(
        "--keystore", envvar="ELICENSE_KEYSTORE", help="Signing key: a name under HOME/keys or a keystore file."
    )(fn)


def _password(password_env: str | None, password_file: Path | None) -> PasswordSource:
    return PasswordSource(env=password_env, file=password_file, prompt=sys.stdin.isatty())


def _account(ctx: Context, /, opts: dict[str, Any]) -> LocalAccount:
    keystore, dev_account = opts.pop("keystore", None), opts.pop("dev_account", None)
    password = _password(opts.pop("password_env", None), opts.pop("password_file", None))
    if keystore is not None and dev_account is not None:
        fail("give either --keystore or --dev-account, not both")
    if keystore is not None:
        path = ctx.keystore_path(keystore)
        return load_account(path, password.read(purpose=str(path)))
    w3 = ctx.w3()
    if not is_dev_chain(w3):
        fail("this chain is not a development chain: sign with --keystore NAME|FILE")
    index = dev_account or 0
    if not 0 <= index < 10:
        fail("--dev-account must be from 0 to 9")
    return dev_accounts(w3)[index]


def _when(value: str | None, *, default: int) -> int:
    """UNIX seconds from 'now', an ISO date (midnight China time) or an ISO date-time."""
    if value is None:
        return default
    if value == "now":
        return default
    try:
        if len(value) == 10:
            day = dt.date.fromisoformat(value)
            return int(dt.datetime.combine(day, dt.time(), dt.timezone(dt.timedelta(hours=8))).timestamp())
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        fail(f"{value!r} is not a time; expected 'now', YYYY-MM-DD or an ISO date-time such as 2026-01-31T09:00+08:00")
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.timezone(dt.timedelta(hours=8)))
    return int(moment.timestamp())


def _chain_now(ctx: Context) -> int:
    return int(ctx.w3().eth.get_block("latest")["timestamp"])


def _echo_tx(label: str, tx: Any) -> None:
    click.echo(f"{label}: block {tx.block_number}, gas {tx.gas_used:,}, tx 0x{tx.tx_hash.hex()}")


# ------------------------------------------------------------------------------------------------
# Root
# ------------------------------------------------------------------------------------------------


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.option(
    "--home",
    type=click.Path(file_okay=False, path_type=Path),
    default=lambda: os.environ.get("ELICENSE_HOME", str(Path.home() / ".elicense")),
    show_default="$ELICENSE_HOME or ~/.elicense",
    help="Directory for keystores, deployment addresses and the issuer store.",
)
@click.option(
    "--rpc-url",
    default=lambda: os.environ.get("ELICENSE_RPC_URL"),
    show_default="$ELICENSE_RPC_URL, else an in-process chain",
    help="JSON-RPC URL of the chain, e.g. http://127.0.0.1:8545.",
)
@click.option(
    "--db",
    "db_url",
    default=lambda: os.environ.get("ELICENSE_DB"),
    show_default="$ELICENSE_DB, else sqlite:///HOME/store.db",
    help="Issuer store database URL.",
)
@click.pass_context
def cli(click_ctx: click.Context, home: Path, rpc_url: str | None, db_url: str | None) -> None:
    """Blockchain-anchored e-license registry."""
    click_ctx.obj = Context(home=home, rpc_url=rpc_url or None, db_url=db_url or None)


@cli.command()
@click.option("--admin", help="First federation admin (default: the deployer).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@_signer_options
@click.pass_obj
def deploy(ctx: Context, /, admin: str | None, as_json: bool, **opts: Any) -> None:
    """Deploy the trust and license registries and print their addresses and gas used.

    On a real chain (--rpc-url) the addresses are saved to HOME/deployment.json for the other
    commands; an existing deployment is never overwritten.
    """
    if ctx.rpc_url is not None and ctx.deployment_path.exists():
        fail(f"{ctx.deployment_path} exists already; use another --home to deploy again")
    sender = _account(ctx, opts)
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
def info(ctx: Context, /, as_json: bool) -> None:
    """Show the chain head and the deployment of this home."""
    client = ctx.client()
    head = client.w3.eth.get_block("latest")
    report = {**client.deployment.to_dict(), "head_block": int(head["number"]), "head_time": int(head["timestamp"])}
    if as_json:
        click.echo(json.dumps(report))
    else:
        for k, v in report.items():
            click.echo(f"{k:18} {v}")


@cli.command()
@click.argument("address")
@click.argument("amount", type=float)
@_signer_options
@click.pass_obj
def fund(ctx: Context, /, address: str, amount: float, **opts: Any) -> None:
    """Send AMOUNT of the chain's coin (e.g. 1.5) to ADDRESS, so a new key can pay for gas."""
    if not 0 < amount <= 1_000_000:
        fail("AMOUNT must be more than 0 and at most 1000000")
    client = ctx.client()
    gas = client.fund(_account(ctx, opts), address, int(amount * 10**18))
    click.echo(f"sent {amount} to {address} (gas {gas:,})")


# ------------------------------------------------------------------------------------------------
# Keys
# ------------------------------------------------------------------------------------------------


def _uscc_option(fn: F) -> F:
    return click.option(
        "--uscc", "uscc", required=True, envvar="ELICENSE_ISSUER", help="The department's unified social credit code."
    )(fn)


@cli.group()
def keys() -> None:
    """Encrypted signing keys (HOME/keys/NAME.json)."""


@keys.command("create")
@click.argument("name")
@_password_options
@click.pass_obj
def keys_create(ctx: Context, /, name: str, password_env: str | None, password_file: Path | None) -> None:
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
    ctx: Context, /, name: str, private_key_file: Path, password_env: str | None, password_file: Path | None
) -> None:
    """Import a hex private key into an encrypted keystore HOME/keys/NAME.json."""
    path = ctx.keys_dir / f"{_key_name(name)}.json"
    if private_key_file.stat().st_size > 200:
        fail(f"{private_key_file} is too large for a private key file")
    text = private_key_file.read_text(encoding="ascii", errors="replace").strip().removeprefix("0x")
    if len(text) != 64 or any(c not in "0123456789abcdefABCDEF" for c in text):
        fail(f"{private_key_file} must hold a 32-byte private key as 64 hex digits")
    password = _password(password_env, password_file).read(purpose=f"new key {name}", confirm=True)
    address = import_keystore(path, bytes.fromhex(text), password)
    click.echo(f"{name} {address} {path}")


@keys.command("accept")
@click.argument("name")
@_uscc_option
@_password_options
@click.pass_obj
def keys_accept(ctx: Context, /, name: str, uscc: str, password_env: str | None, password_file: Path | None) -> None:
    """Print key NAME's acceptance of becoming a key of the department --uscc, for the trust registry
    of HOME/deployment.json: the region authority passes it to `issuer add-key` or `issuer
    rotate-key` with --acceptance. Signs offline; nothing is sent."""
    path = ctx.keystore_path(name)
    account = load_account(path, _password(password_env, password_file).read(purpose=str(path)))
    deployment = Deployment.load(ctx.deployment_path)
    acceptance = sign_key_acceptance(
        account,
        issuer_id=issuer_id_from_uscc(uscc),
        chain_id=deployment.chain_id,
        trust_registry=deployment.trust_registry,
    )
    click.echo("0x" + acceptance.hex())


def _acceptance_option(fn: F) -> F:
    return click.option(
        "--acceptance",
        required=True,
        help="The new key's signed acceptance (hex), made by its holder with `elicense keys accept`.",
    )(fn)


def _acceptance(text: str) -> bytes:
    try:
        value = bytes.fromhex(text.strip().removeprefix("0x"))
    except ValueError:
        fail("--acceptance must be the hex signature printed by `elicense keys accept`")
    if not value:
        fail("--acceptance must not be empty")
    return value


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


# ------------------------------------------------------------------------------------------------
# Regions and issuers (federation admins and region authorities)
# ------------------------------------------------------------------------------------------------


@cli.group()
def region() -> None:
    """Regions and their authorities (federation admins)."""


@region.command("add")
@click.argument("code")
@click.argument("name", required=False)
@_signer_options
@click.pass_obj
def region_add(ctx: Context, /, code: str, name: str | None, **opts: Any) -> None:
    """Add region CODE (GB/T 2260, e.g. 110000); NAME defaults to the official name."""
    region_code = validate_region(code)
    label = name or region_name(region_code) or str(region_code)
    _echo_tx(f"region {region_code} {label} added", ctx.client().add_region(_account(ctx, opts), region_code, label))


@region.command("add-authority")
@click.argument("code")
@click.argument("address")
@_signer_options
@click.pass_obj
def region_add_authority(ctx: Context, /, code: str, address: str, **opts: Any) -> None:
    """Make ADDRESS an authority of region CODE."""
    tx = ctx.client().add_region_authority(_account(ctx, opts), validate_region(code), address)
    _echo_tx(f"{address} is an authority of {code}", tx)


@region.command("remove-authority")
@click.argument("code")
@click.argument("address")
@_signer_options
@click.pass_obj
def region_remove_authority(ctx: Context, /, code: str, address: str, **opts: Any) -> None:
    """Remove ADDRESS from the authorities of region CODE."""
    tx = ctx.client().remove_region_authority(_account(ctx, opts), validate_region(code), address)
    _echo_tx(f"{address} is no longer an authority of {code}", tx)


@cli.group()
def issuer() -> None:
    """Issuing departments, their keys and permitted license types (region authorities)."""


@issuer.command("register")
@_uscc_option
@click.option("--region", "region_code", required=True, help="GB/T 2260 code of the department's region.")
@click.option("--name", required=True, help="The department's official name.")
@click.option("--profile-uri", default="", help="URL of the department's public profile.")
@_signer_options
@click.pass_obj
def issuer_register(ctx: Context, /, uscc: str, region_code: str, name: str, profile_uri: str, **opts: Any) -> None:
    """Register a department as an issuer (signed by an authority of its region)."""
    issuer_id = issuer_id_from_uscc(uscc)
    tx = ctx.client().register_issuer(
        _account(ctx, opts), issuer_id, validate_region(region_code), name, profile_uri=profile_uri
    )
    _echo_tx(f"issuer {validate_uscc(uscc)} {name} registered", tx)


@issuer.command("set-active")
@_uscc_option
@click.argument("active", type=click.Choice(["yes", "no"]))
@_signer_options
@click.pass_obj
def issuer_set_active(ctx: Context, /, uscc: str, active: str, **opts: Any) -> None:
    """Activate (yes) or deactivate (no) an issuer."""
    tx = ctx.client().set_issuer_active(_account(ctx, opts), issuer_id_from_uscc(uscc), active == "yes")
    _echo_tx(f"issuer {uscc} active={active}", tx)


@issuer.command("add-key")
@_uscc_option
@click.argument("address")
@click.option("--from", "valid_from", help="Start of the window: now (default), YYYY-MM-DD or ISO date-time.")
@click.option("--until", "valid_until", help="End of the window (exclusive); default open-ended.")
@_acceptance_option
@_signer_options
@click.pass_obj
def issuer_add_key(
    ctx: Context,
    /,
    uscc: str,
    address: str,
    valid_from: str | None,
    valid_until: str | None,
    acceptance: str,
    **opts: Any,
) -> None:
    """Add signing key ADDRESS to an issuer (with the key's acceptance)."""
    now = _chain_now(ctx)
    tx = ctx.client().add_key(
        _account(ctx, opts),
        issuer_id_from_uscc(uscc),
        address,
        valid_from=_when(valid_from, default=now),
        valid_until=_when(valid_until, default=OPEN_END),
        acceptance=_acceptance(acceptance),
    )
    _echo_tx(f"key {address} added to {uscc}", tx)


@issuer.command("rotate-key")
@_uscc_option
@click.argument("old")
@click.argument("new")
@_acceptance_option
@_signer_options
@click.pass_obj
def issuer_rotate_key(ctx: Context, /, uscc: str, old: str, new: str, acceptance: str, **opts: Any) -> None:
    """End key OLD's window now and add key NEW, with NEW's acceptance (signed by an authority or a
    valid key of the issuer)."""
    tx = ctx.client().rotate_key(
        _account(ctx, opts), issuer_id_from_uscc(uscc), old, new, acceptance=_acceptance(acceptance)
    )
    _echo_tx(f"key {old} rotated to {new}", tx)


@issuer.command("retire-key")
@_uscc_option
@click.argument("address")
@_signer_options
@click.pass_obj
def issuer_retire_key(ctx: Context, /, uscc: str, address: str, **opts: Any) -> None:
    """End key ADDRESS's window now; licenses anchored before stay valid."""
    tx = ctx.client().retire_key(_account(ctx, opts), issuer_id_from_uscc(uscc), address)
    _echo_tx(f"key {address} retired", tx)


@issuer.command("compromise-key")
@_uscc_option
@click.argument("address")
@click.option("--at", "at", required=True, help="When the key was compromised (YYYY-MM-DD or ISO date-time).")
@_signer_options
@click.pass_obj
def issuer_compromise_key(ctx: Context, /, uscc: str, address: str, at: str, **opts: Any) -> None:
    """Declare key ADDRESS compromised since --at: licenses it anchored since then become invalid."""
    tx = ctx.client().declare_key_compromised(
        _account(ctx, opts), issuer_id_from_uscc(uscc), address, compromised_at=_when(at, default=0)
    )
    _echo_tx(f"key {address} declared compromised", tx)


@issuer.command("permit")
@_uscc_option
@click.option("--type", "type_code", required=True, help="License type code: " + ", ".join(CATALOG))
@click.option("--from", "valid_from", help="Start: now (default), YYYY-MM-DD or ISO date-time.")
@click.option("--until", "valid_until", help="End (exclusive); default open-ended.")
@_signer_options
@click.pass_obj
def issuer_permit(
    ctx: Context, /, uscc: str, type_code: str, valid_from: str | None, valid_until: str | None, **opts: Any
) -> None:
    """Permit an issuer to issue a license type within a window."""
    now = _chain_now(ctx)
    ltype = get_type(type_code)
    tx = ctx.client().permit_license_type(
        _account(ctx, opts),
        issuer_id_from_uscc(uscc),
        ltype.type_id,
        valid_from=_when(valid_from, default=now),
        valid_until=_when(valid_until, default=OPEN_END),
    )
    _echo_tx(f"{uscc} may issue {ltype.code} ({ltype.zh})", tx)


@issuer.command("show")
@_uscc_option
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
def issuer_show(ctx: Context, /, uscc: str, as_json: bool) -> None:
    """Show an issuer as the chain records it."""
    client = ctx.client()
    issuer_id = issuer_id_from_uscc(uscc)
    record = client.get_issuer(issuer_id)
    if record is None:
        fail(f"no issuer {uscc} is registered")
    permitted = {}
    for code, ltype in CATALOG.items():
        p = client.get_type_permission(issuer_id, ltype.type_id)
        if p is not None:
            permitted[code] = {"from": p.valid_from, "until": None if p.valid_until == OPEN_END else p.valid_until}
    report = {
        "uscc": validate_uscc(uscc),
        "name": record.name,
        "region": record.region,
        "active": record.active,
        "profile_uri": record.profile_uri,
        "permitted_types": permitted,
    }
    click.echo(json.dumps(report, ensure_ascii=False, indent=None if as_json else 2))


# ------------------------------------------------------------------------------------------------
# Licenses (issuing departments)
# ------------------------------------------------------------------------------------------------


@cli.group()
def license() -> None:
    """Issue, anchor and manage licenses (issuing departments)."""


def _department(ctx: Context, /, uscc: str, opts: dict[str, Any], *, chain: bool) -> Department:
    account = _account(ctx, opts)
    if chain or ctx.rpc_url is not None:
        client = ctx.client()
        deployment = client.deployment
    else:
        client = None
        if not ctx.deployment_path.exists():
            fail(f"no deployment at {ctx.deployment_path}: licenses are signed for a deployment; deploy first")
        deployment = Deployment.load(ctx.deployment_path)
    signer = LicenseSigner(account, chain_id=deployment.chain_id, license_registry=deployment.license_registry)
    return Department(issuer_uscc=uscc, store=ctx.store(), signer=signer, client=client, account=account)


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
@_uscc_option
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
@_signer_options
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
    department = _department(ctx, uscc, opts, chain=False)
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
@_uscc_option
@click.option("--batch-size", default=1000, show_default=True, help="Licenses per batch (one transaction each).")
@_signer_options
@click.pass_obj
def license_anchor(ctx: Context, /, uscc: str, batch_size: int, **opts: Any) -> None:
    """Anchor every pending license signed by this key, in Merkle batches."""
    department = _department(ctx, uscc, opts, chain=True)
    results = department.anchor_pending(batch_size=batch_size)
    for r in results:
        click.echo(
            f"batch 0x{r.root.hex()}: {r.count} licenses, block {r.tx.block_number}, "
            f"{r.gas_per_license:,.0f} gas per license"
        )
    click.echo(f"{sum(r.count for r in results)} licenses anchored in {len(results)} batches")


def _status_command(name: str, doc: str) -> None:
    @license.command(name, help=doc)
    @_uscc_option
    @click.argument("license_ids", nargs=-1, required=True)
    @click.option("--reason", type=int, default=0, show_default=True, help="Reason code (0 to 65535).")
    @_signer_options
    @click.pass_obj
    def command(ctx: Context, /, uscc: str, license_ids: tuple[str, ...], reason: int, **opts: Any) -> None:
        department = _department(ctx, uscc, opts, chain=True)
        tx = getattr(department, name)(list(license_ids), reason=reason)
        done = {"suspend": "suspended", "reinstate": "reinstated", "revoke": "revoked"}[name]
        _echo_tx(f"{len(license_ids)} license(s) {done}", tx)


_status_command("suspend", "Suspend licenses (reversible).")
_status_command("reinstate", "Reinstate suspended licenses.")
_status_command("revoke", "Revoke licenses (final).")


@license.command("amend")
@_uscc_option
@click.argument("license_id")
@click.option("--field", "field_pairs", multiple=True, help="A changed field, key=value (repeat).")
@click.option("--valid-to", help="New last valid day, YYYY-MM-DD.")
@click.option("--reason", type=int, default=0, show_default=True)
@_signer_options
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
    department = _department(ctx, uscc, opts, chain=True)
    end: Any = "unchanged" if valid_to is None else dt.date.fromisoformat(valid_to)
    new, tx = department.amend(license_id, _fields(field_pairs), valid_to=end, reason=reason)
    _echo_tx(f"{license_id} superseded by {new.license_id} (anchor the new version with `license anchor`)", tx)


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
        offset = 0
        while True:
            rows = store.list_licenses(issuer_uscc=code, limit=1000, offset=offset)
            if not rows:
                break
            for row in rows:
                record = {
                    "license_id": row.license_id,
                    "type": row.type_code,
                    "issuer_uscc": row.issuer_uscc,
                    "valid_from": from_day_number(row.valid_from).isoformat(),
                    "valid_to": None if row.valid_to is None else from_day_number(row.valid_to).isoformat(),
                    "fields": row.fields,
                    "secret": "0x" + row.secret.hex(),
                    "digest": "0x" + row.digest.hex(),
                    "signature": "0x" + row.signature.hex(),
                    "signer": row.signer,
                    "status": row.status,
                    "batch_root": None if row.batch_root is None else "0x" + row.batch_root.hex(),
                }
                fh.write(json.dumps(record, ensure_ascii=False) + "\n")
                count += 1
            offset += len(rows)
    click.echo(f"{count} licenses, with their secrets, written to {out} (mode 0600)")


@cli.command("qr")
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
    text = present(lic, row.signature, chosen).to_text()
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


# ------------------------------------------------------------------------------------------------
# Verification
# ------------------------------------------------------------------------------------------------


@cli.command()
@click.option("--text", help="The QR text (LC1:...).")
@click.option(
    "--image", type=click.Path(dir_okay=False, exists=True, path_type=Path), help="A photo or scan of the QR code."
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object with status, reasons and details.")
@click.option("--lang", type=click.Choice(["zh", "en"]), default="zh", show_default=True)
@click.pass_obj
def verify(ctx: Context, /, text: str | None, image: Path | None, as_json: bool, lang: str) -> None:
    """Verify a license from its QR text or a photo of its QR code (exit 0 only when valid)."""
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
    result = verifier.verify(qr_text)
    data = result.to_dict()
    if as_json:
        click.echo(json.dumps(data, ensure_ascii=False))
    else:
        zh, en = HEADLINES[result.status]
        click.echo(f"{result.status.value.upper()}  {zh if lang == 'zh' else en}")
        for r in result.reasons:
            click.echo(f"  {r.zh if lang == 'zh' else r.en}")
        if data["license_id"]:
            click.echo(f"  license   {data['license_id']} ({data['license_type']['zh']})")
        if data["issuer"]:
            click.echo(f"  issuer    {data['issuer']['name'] or '-'} ({data['issuer']['uscc']})")
        if data["anchor"]:
            click.echo(f"  anchored  {data['anchor']['time_iso']} (block {data['anchor']['block_number']})")
        for f in result.disclosed:
            label = f.label_zh if lang == "zh" else f.label_en
            click.echo(f"  {label}: {f.display_zh if lang == 'zh' else f.display_en}")
        if data["chain"]:
            click.echo(f"  chain state: block {data['chain']['block_number']}, {data['chain']['age_seconds']} s old")
    sys.exit(0 if result.ok else 1)


@cli.command()
@click.option("--licenses", default=1000, show_default=True, help="How many licenses to issue.")
@click.option("--json", "as_json", is_flag=True, help="Print the cases as JSON.")
@click.pass_obj
def demo(ctx: Context, /, licenses: int, as_json: bool) -> None:
    """Run the whole story on one chain: regions, departments, licenses, and every outcome."""
    if not 20 <= licenses <= 100_000:
        fail("--licenses must be from 20 to 100000")
    run_demo(ctx.home, ctx.w3(), rpc_url=ctx.rpc_url, licenses=licenses, as_json=as_json, echo=click.echo)


# ------------------------------------------------------------------------------------------------
# The service, API keys and the mirror
# ------------------------------------------------------------------------------------------------


def _parse_department(ctx: Context, spec: str) -> tuple[str, LocalAccount]:
    """``USCC=KEYSTORE[:PASSWORD_ENV]`` -> (credit code, account)."""
    if "=" not in spec:
        fail(f"--department {spec!r} must look like USCC=KEYSTORE or USCC=KEYSTORE:PASSWORD_ENV")
    uscc, rest = spec.split("=", 1)
    keystore, _, env_name = rest.partition(":")
    path = ctx.keystore_path(keystore)
    source = PasswordSource(env=env_name or None, prompt=sys.stdin.isatty())
    return validate_uscc(uscc, field="--department"), load_account(path, source.read(purpose=str(path)))


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535))
@click.option(
    "--department",
    "department_specs",
    multiple=True,
    help="A department this service signs for: USCC=KEYSTORE[:PASSWORD_ENV] (repeat).",
)
@click.option("--licenses", default=1000, show_default=True, help="Demo mode: licenses to issue.")
@click.option("--worker/--no-worker", default=True, show_default=True, help="Run the anchoring worker inside.")
@click.pass_obj
def serve(
    ctx: Context, /, host: str, port: int, department_specs: tuple[str, ...], licenses: int, worker: bool
) -> None:
    """Run the HTTP service and the counter page.

    With --rpc-url: serve the deployment of HOME, keep its chain mirror (HOME/mirror.db) in step,
    and sign for the --department keys. Without: run the demo on an in-process chain first and
    serve its data (an API key for the demo's market-regulation bureau is printed).
    """
    import uvicorn

    from api.main import create_app
    from api.services import Services
    from api.settings import Settings
    from registry.issuer.worker import AnchorWorker
    from verifier.mirror import Mirror

    settings = Settings(home=ctx.home, rpc_url=ctx.rpc_url, db=ctx.db_url)
    if ctx.rpc_url is None:
        if department_specs:
            fail("--department needs --rpc-url (demo mode signs with the demo's own keys)")
        run = run_demo(ctx.home, ctx.w3(), rpc_url=None, licenses=licenses, echo=click.echo)
        deployment = run.client.deployment
        mirror = Mirror.at(ctx.home / "demo" / "mirror.db", deployment, confirmations=1)
        accounts = [d.account for d in run.departments.values() if d.account is not None]
        services = Services(
            settings,
            deployment=deployment,
            client=run.client,
            mirror=mirror,
            store=run.store,
            departments=run.departments,
            anchor_worker=AnchorWorker(run.store, run.client, accounts, max_age=settings.anchor_interval),
        )
        uscc, department = next(iter(run.departments.items()))
        _, key = services.api_keys.create(uscc, label="demo")
        valid = next(c.text for c in run.cases if c.name == "valid")
        base = f"http://{host}:{port}"
        click.echo("")
        click.echo(f"Counter page:   {base}/")
        click.echo(f"API document:   {base}/docs")
        click.echo(f"QR text to try: {valid}")
        click.echo(f"  curl -s {base}/v1/verify -H 'Content-Type: application/json' -d '{{\"qr\": \"{valid}\"}}'")
        click.echo(f"QR images:      {ctx.home / 'demo'}/*.png (upload one on the counter page)")
        click.echo(f"API key of {department.issuer_uscc} (shown once): {key}")
    else:
        client = ctx.client()
        deployment = client.deployment
        mirror = Mirror(
            settings.mirror_url,
            deployment,
            confirmations=settings.confirmations,
            max_anchors_per_issuer=settings.max_anchors_per_issuer,
        )
        store = ctx.store()
        departments = {}
        for spec in department_specs:
            uscc, account = _parse_department(ctx, spec)
            signer = LicenseSigner(account, chain_id=deployment.chain_id, license_registry=deployment.license_registry)
            departments[uscc] = Department(issuer_uscc=uscc, store=store, signer=signer, client=client, account=account)
        accounts = [d.account for d in departments.values() if d.account is not None]
        services = Services(
            settings,
            deployment=deployment,
            client=client,
            mirror=mirror,
            store=store,
            departments=departments,
            anchor_worker=AnchorWorker(store, client, accounts, max_age=settings.anchor_interval)
            if accounts and worker
            else None,
        )
        # URLs shown without credentials, paths or queries (providers put API keys in them)
        chain = display_url(ctx.rpc_url)
        mirror_at = (
            settings.mirror_url if settings.mirror_url.startswith("sqlite") else display_url(settings.mirror_url)
        )
        click.echo(f"Counter page: http://{host}:{port}/  (chain {chain}, mirror {mirror_at})")
    app = create_app(services)
    uvicorn.run(app, host=host, port=port, log_level="warning", access_log=False)


@cli.command()
@click.option(
    "--department",
    "department_specs",
    multiple=True,
    required=True,
    help="A signing key to anchor with: USCC=KEYSTORE[:PASSWORD_ENV] (repeat).",
)
@click.option("--batch-size", default=1000, show_default=True, type=click.IntRange(1, 10_000))
@click.option(
    "--max-age", default=5.0, show_default=True, help="Anchor a smaller batch once its oldest license is this old (s)."
)
@click.option("--interval", default=1.0, show_default=True, help="Seconds between passes.")
@click.option("--once", is_flag=True, help="One pass, anchoring everything pending, then exit.")
@click.option("--confirmations", default=1, show_default=True, type=click.IntRange(1, 1000), help="Blocks to wait for.")
@click.pass_obj
def worker(
    ctx: Context,
    /,
    department_specs: tuple[str, ...],
    batch_size: int,
    max_age: float,
    interval: float,
    once: bool,
    confirmations: int,
) -> None:
    """Anchor issued licenses in batches, resuming whatever a crash interrupted; several workers may
    share one PostgreSQL store (each key is sent with by one worker at a time)."""
    import signal as _signal
    import threading as _threading

    from registry.issuer.worker import AnchorWorker

    accounts = [_parse_department(ctx, spec)[1] for spec in department_specs]
    base = ctx.client()
    chain = RegistryClient(base.w3, base.deployment, confirmations=confirmations, check_chain=False)
    anchor_worker = AnchorWorker(ctx.store(), chain, accounts, batch_size=batch_size, max_age=max_age)
    if once:
        results = anchor_worker.run_once(force=True)
        click.echo(f"{sum(r.count for r in results)} licenses anchored in {len(results)} batches")
        return
    stop = _threading.Event()
    _signal.signal(_signal.SIGTERM, lambda *_: stop.set())
    click.echo(f"anchoring with {len(accounts)} key(s); stop with Ctrl-C")
    try:
        anchor_worker.run(stop, interval=interval)
    except KeyboardInterrupt:
        stop.set()


@cli.command()
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
def status(ctx: Context, /, as_json: bool) -> None:
    """Issuance and anchoring progress of the issuer store: pending, prepared, anchored."""
    from sqlalchemy import func, select

    from registry.issuer.store import batches, licenses

    store = ctx.store()
    with store.engine.connect() as conn:
        total = conn.execute(select(func.count()).select_from(licenses)).scalar() or 0
        pending = conn.execute(select(func.count()).where(licenses.c.batch_root.is_(None))).scalar() or 0
        oldest = conn.execute(select(func.min(licenses.c.created_at)).where(licenses.c.batch_root.is_(None))).scalar()
        by_state: dict[str, int] = {
            str(k): int(v) for k, v in conn.execute(select(batches.c.state, func.count()).group_by(batches.c.state))
        }
        in_prepared = (
            conn.execute(
                select(func.count()).where(
                    licenses.c.batch_root.in_(select(batches.c.root).where(batches.c.state == "prepared"))
                )
            ).scalar()
            or 0
        )
    import time as _time

    report = {
        "licenses": total,
        "pending": pending,
        "in_prepared_batches": in_prepared,
        "anchored": total - pending - in_prepared,
        "batches": {"prepared": by_state.get("prepared", 0), "anchored": by_state.get("anchored", 0)},
        "oldest_pending_seconds": None if oldest is None else round(_time.time() - int(oldest), 1),
    }
    if as_json:
        click.echo(json.dumps(report))
    else:
        for key, value in report.items():
            click.echo(f"{key:22} {value}")


@cli.group()
def apikey() -> None:
    """API keys of departments for the issuer endpoints (stored only as hashes)."""


@apikey.command("create")
@_uscc_option
@click.option("--label", default="", help="What the key is for.")
@click.pass_obj
def apikey_create(ctx: Context, /, uscc: str, label: str) -> None:
    """Create a key for a department; it is printed once and never stored."""
    from api.security import ApiKeys

    key_id, key = ApiKeys(ctx.store().engine).create(uscc, label)
    click.echo(f"{key_id} {key}")


@apikey.command("list")
@click.pass_obj
def apikey_list(ctx: Context, /) -> None:
    """List keys (id, department, label, created, revoked); the keys themselves are not stored."""
    from api.security import ApiKeys

    for info_ in ApiKeys(ctx.store().engine).list():
        state = "revoked" if info_.revoked else "active"
        click.echo(f"{info_.key_id} {info_.issuer_uscc} {state} {info_.created_at} {info_.label}")


@apikey.command("revoke")
@click.argument("key_id")
@click.pass_obj
def apikey_revoke(ctx: Context, /, key_id: str) -> None:
    """Revoke a key by its id."""
    from api.security import ApiKeys

    if not ApiKeys(ctx.store().engine).revoke(key_id):
        fail(f"no API key {key_id}")
    click.echo(f"revoked {key_id}")


@cli.group()
def mirror() -> None:
    """The local chain mirror verification reads (HOME/mirror.db)."""


def _mirror(ctx: Context, confirmations: int) -> Any:
    from verifier.mirror import Mirror

    client = ctx.client()
    url = os.environ.get("ELICENSE_MIRROR_DB") or f"sqlite:///{ctx.home / 'mirror.db'}"
    return client, Mirror(url, client.deployment, confirmations=confirmations)


@mirror.command("sync")
@click.option("--confirmations", default=2, show_default=True, type=click.IntRange(1, 1000))
@click.option("--follow", is_flag=True, help="Keep syncing every 2 s until interrupted.")
@click.pass_obj
def mirror_sync(ctx: Context, /, confirmations: int, follow: bool) -> None:
    """Bring the mirror up to the chain (minus the confirmation depth)."""
    from registry.document.identifiers import uscc_from_issuer_id

    client, m = _mirror(ctx, confirmations)
    while True:
        report = m.sync(client)
        click.echo(
            f"blocks {report.from_block}..{report.to_block} (head {report.head}): {report.events} events, "
            f"{m.index.anchored_count:,} licenses indexed"
            + (f", repaired a reorganisation {report.reorg_depth} blocks deep" if report.reorg_depth else "")
        )
        for issuer_id, dropped in m.index.dropped_anchors.items():
            click.echo(
                f"warning: {dropped:,} digests anchored by {uscc_from_issuer_id(issuer_id)} beyond the bound of "
                f"{m.max_anchors_per_issuer:,} per issuer are not indexed",
                err=True,
            )
        if not follow:
            return
        import time as _time

        _time.sleep(2)


@mirror.command("export")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@click.pass_obj
def mirror_export(ctx: Context, /, path: Path) -> None:
    """Write a snapshot of the mirror (gzip JSON lines) for another verifier to start from."""
    _, m = _mirror(ctx, 2)
    click.echo(f"{m.export_snapshot(path)} events written to {path}")


@mirror.command("import")
@click.argument("path", type=click.Path(dir_okay=False, exists=True, path_type=Path))
@click.option("--confirmations", default=2, show_default=True, type=click.IntRange(1, 1000))
@click.pass_obj
def mirror_import(ctx: Context, /, path: Path, confirmations: int) -> None:
    """Start this home's mirror from a snapshot, after checking it against the chain."""
    from verifier.mirror import Mirror

    client = ctx.client()
    url = os.environ.get("ELICENSE_MIRROR_DB") or f"sqlite:///{ctx.home / 'mirror.db'}"
    m = Mirror.import_snapshot(path, url, client, confirmations=confirmations)
    click.echo(
        f"mirror started from {path}: {m.index.anchored_count:,} licenses up to block {m.freshness().block_number}"
    )


def main() -> None:
    try:
        cli(standalone_mode=True)
    except FieldValueError as exc:
        fail(str(exc))
    except (RegistryError, SignerError) as exc:
        fail(str(exc))


if __name__ == "__main__":
    main()
