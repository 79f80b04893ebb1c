"""What every command shares: the context of one invocation (home, chain, store), the error exit,
the key, password and signer options, time parsing, and the wiring of the HTTP service."""

from __future__ import annotations

import datetime as dt
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar

import click
from eth_account.signers.local import LocalAccount
from web3 import Web3

from registry import (
    ConfigurationError,
    Deployment,
    RegistryClient,
    connect,
    dev_accounts,
)
from registry.issuer.department import Department
from registry.issuer.store import IssuerStore
from signer import PasswordSource, load_account

if TYPE_CHECKING:
    from api.services import Services
    from api.settings import Settings
    from signer import CoSigningKey
    from verifier.mirror import Mirror

F = TypeVar("F", bound=Callable[..., Any])

_NAME_CHARS = set("abcdefghijklmnopqrstuvwxyz0123456789-_")
#: Development accounts a command may sign with (--dev-account N).
DEV_ACCOUNTS = 10

#: The fewest licenses the demo issues: its bulk rotates over twenty slots, so every department
#: issues some of each of its types (its cases pick among them).
DEMO_MIN_LICENSES = 20


def licenses_option(help_prefix: str) -> Callable[[F], F]:
    """``--licenses``: how many licenses the demo issues (``demo``, and ``serve`` in demo mode)."""
    return click.option(
        "--licenses",
        default=1000,
        show_default=True,
        type=click.IntRange(DEMO_MIN_LICENSES, 1_000_000),
        help=f"{help_prefix} (at least {DEMO_MIN_LICENSES}: every department issues some of each of its types).",
    )


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


def key_name(name: str) -> str:
    if not name or len(name) > 64 or not set(name) <= _NAME_CHARS:
        fail(f"key name {name!r} must be 1 to 64 characters of a-z, 0-9, '-' and '_'")
    return name


def uscc_option(fn: F) -> F:
    return click.option(
        "--uscc", "uscc", required=True, envvar="ELICENSE_ISSUER", help="The department's unified social credit code."
    )(fn)


def password_options(fn: F) -> F:
    fn = click.option(
        "--password-file",
        type=click.Path(dir_okay=False, path_type=Path),
        help="Read the keystore password from this file (first line).",
    )(fn)
    return click.option(
        "--password-env", metavar="VAR", help="Read the keystore password from this environment variable."
    )(fn)


def signer_options(fn: F) -> F:
    fn = password_options(fn)
    fn = click.option(
        "--dev-account", type=int, help="Sign with development account N (in-process chain or Hardhat node)."
    )(fn)
    return click.option(
        "--keystore", envvar="ELICENSE_KEYSTORE", help="Signing key: a name under HOME/keys or a keystore file."
    )(fn)


def password_source(password_env: str | None, password_file: Path | None) -> PasswordSource:
    return PasswordSource(env=password_env, file=password_file, prompt=sys.stdin.isatty())


def signing_account(ctx: Context, /, opts: dict[str, Any]) -> LocalAccount:
    """The signing account chosen by the signer options (removed from ``opts``)."""
    keystore, dev_account = opts.pop("keystore", None), opts.pop("dev_account", None)
    source = password_source(opts.pop("password_env", None), opts.pop("password_file", None))
    if keystore is not None and dev_account is not None:
        fail("give either --keystore or --dev-account, not both")
    if keystore is not None:
        path = ctx.keystore_path(keystore)
        return load_account(path, source.read(purpose=str(path)))
    w3 = ctx.w3()
    try:
        accounts = dev_accounts(w3, DEV_ACCOUNTS)  # only development chains have them
    except ConfigurationError:
        fail("this chain is not a development chain: sign with --keystore NAME|FILE")
    index = dev_account or 0
    if not 0 <= index < DEV_ACCOUNTS:
        fail("--dev-account must be from 0 to 9")
    return accounts[index]


def when(value: str | None, *, default: int) -> int:
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


def chain_now(ctx: Context) -> int:
    return int(ctx.w3().eth.get_block("latest")["timestamp"])


def echo_tx(label: str, tx: Any) -> None:
    click.echo(f"{label}: block {tx.block_number}, gas {tx.gas_used:,}, tx 0x{tx.tx_hash.hex()}")


def build_services(
    settings: Settings,
    *,
    client: RegistryClient,
    mirror: Mirror,
    store: IssuerStore,
    departments: dict[str, Department],
    anchor: bool,
    co_signing_keys: dict[str, CoSigningKey] | None = None,
) -> Services:
    """The HTTP service's dependencies for ``client``'s deployment; with ``anchor``, an anchoring
    worker that sends the departments' pending licenses with their keys. ``co_signing_keys`` (by
    credit code) are the departments' co-signing keys the service co-signs joint applications
    with (None: those ``ELICENSE_CO_SIGNING_KEYS`` names)."""
    from api.services import Services
    from registry.issuer.worker import AnchorWorker

    accounts = [d.account for d in departments.values() if d.account is not None]
    return Services(
        settings,
        deployment=client.deployment,
        client=client,
        mirror=mirror,
        store=store,
        departments=departments,
        co_signing_keys=co_signing_keys,
        anchor_worker=AnchorWorker(store, client, accounts, max_age=settings.anchor_interval) if anchor else None,
    )
