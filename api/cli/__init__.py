"""The ``elicense`` command line.

Every command takes ``--home DIR`` (keystores, deployment addresses, the issuer store; default
``$ELICENSE_HOME`` or ``~/.elicense``) and ``--rpc-url URL`` (default ``$ELICENSE_RPC_URL``,
else a fresh in-process chain that lives only as long as the command).

The commands live in one module per group: ``chain`` (deploy, info, fund), ``keys``,
``authority`` (region, issuer), ``cosigning`` (the issuers' co-signing keys, policy), ``sm2`` (SM2
keys: import, binding proofs, binding by the authority), ``joint``,
``licenses`` (license, qr, verify), ``applications`` (apply, applications), ``receipts`` (receipt key,
verify, check), ``service`` (serve, worker, status, apikey, mirror), ``subscriptions`` (subscription,
webhook: a subscriber's client of a verifier service, and the check of a received webhook) and ``demo``.
"""

from __future__ import annotations

import os
from pathlib import Path

import click

from api.cli import (
    applications,
    authority,
    chain,
    cosigning,
    demo,
    joint,
    keys,
    licenses,
    receipts,
    service,
    sm2,
    subscriptions,
)
from api.cli._context import Context, fail
from api.cli._explain import explain
from registry import RegistryError
from registry.document.identifiers import FieldValueError
from registry.errors import ContractRevertError
from signer import SignerError

__all__ = ["cli", "main"]


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


for _module in (
    chain,
    keys,
    authority,
    cosigning,
    sm2,
    joint,
    licenses,
    applications,
    receipts,
    service,
    subscriptions,
    demo,
):
    for _command in _module.COMMANDS:
        cli.add_command(_command)


def main() -> None:
    try:
        cli(standalone_mode=True)
    except FieldValueError as exc:
        fail(str(exc))
    except ContractRevertError as exc:
        fail(explain(exc))
    except (RegistryError, SignerError) as exc:
        fail(str(exc))
