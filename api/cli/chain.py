"""The deployment and the chain: deploy, info, fund."""

from __future__ import annotations

import json
from typing import Any

import click

from api.cli._context import Context, fail, signer_options, signing_account
from registry import RegistryClient


@click.command()
@click.option("--admin", help="First federation admin (default: the deployer).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@signer_options
@click.pass_obj
def deploy(ctx: Context, /, admin: str | None, as_json: bool, **opts: Any) -> None:
    """Deploy the trust and license registries and print their addresses and gas used.

    On a real chain (--rpc-url) the addresses are saved to HOME/deployment.json for the other
    commands; an existing deployment is never overwritten.
    """
    if ctx.rpc_url is not None and ctx.deployment_path.exists():
        fail(f"{ctx.deployment_path} exists already; use another --home to deploy again")
    sender = signing_account(ctx, opts)
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


@click.command()
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


@click.command()
@click.argument("address")
@click.argument("amount", type=float)
@signer_options
@click.pass_obj
def fund(ctx: Context, /, address: str, amount: float, **opts: Any) -> None:
    """Send AMOUNT of the chain's coin (e.g. 1.5) to ADDRESS, so a new key can pay for gas."""
    if not 0 < amount <= 1_000_000:
        fail("AMOUNT must be more than 0 and at most 1000000")
    client = ctx.client()
    gas = client.fund(signing_account(ctx, opts), address, int(amount * 10**18))
    click.echo(f"sent {amount} to {address} (gas {gas:,})")


COMMANDS = (deploy, info, fund)
