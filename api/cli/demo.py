"""The demo, and the demo mode of ``serve``: the only commands built on the development helpers
(devkit), which they import when they run."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from api.cli._context import Context, build_services, fail

if TYPE_CHECKING:
    from api.services import Services
    from api.settings import Settings


@click.command()
@click.option("--licenses", default=1000, show_default=True, help="How many licenses to issue.")
@click.option("--json", "as_json", is_flag=True, help="Print the cases as JSON.")
@click.pass_obj
def demo(ctx: Context, /, licenses: int, as_json: bool) -> None:
    """Run the whole story on one chain: regions, departments, licenses, and every outcome."""
    if not 20 <= licenses <= 100_000:
        fail("--licenses must be from 20 to 100000")
    from devkit.demo import run_demo

    run_demo(ctx.home, ctx.w3(), rpc_url=ctx.rpc_url, licenses=licenses, as_json=as_json, echo=click.echo)


def demo_services(ctx: Context, settings: Settings, /, *, licenses: int, base_url: str) -> Services:
    """Run the demo on the in-process chain and wire the service to serve its data, with an
    anchoring worker for the demo's departments; prints where to look and an API key of the first
    department."""
    from devkit.demo import run_demo
    from verifier.mirror import Mirror

    run = run_demo(ctx.home, ctx.w3(), rpc_url=None, licenses=licenses, echo=click.echo)
    mirror = Mirror.at(ctx.home / "demo" / "mirror.db", run.client.deployment, confirmations=1)
    services = build_services(
        settings,
        client=run.client,
        mirror=mirror,
        store=run.store,
        departments=run.departments,
        anchor=True,
        co_signing_keys=run.co_signing_keys,
    )
    if services.receipts.identity is None:  # the demo signs receipts with a key made for this run
        from verifier.receipts import VerifierIdentity

        services.receipts.identity = VerifierIdentity.generate("110000-demo-verify")
    uscc, department = next(iter(run.departments.items()))
    _, key = services.api_keys.create(uscc, label="demo")
    valid = next(c.text for c in run.cases if c.name == "valid")
    click.echo("")
    click.echo(f"Counter page:   {base_url}/")
    click.echo(f"API document:   {base_url}/docs")
    click.echo(f"QR text to try: {valid}")
    click.echo(f"  curl -s {base_url}/v1/verify -H 'Content-Type: application/json' -d '{{\"qr\": \"{valid}\"}}'")
    click.echo(f'Receipts:       add "receipt": true to the request; the key: {base_url}/v1/receipts/key')
    click.echo(f"QR images:      {ctx.home / 'demo'}/*.png (upload one on the counter page)")
    click.echo(f"联办码:         {ctx.home / 'demo' / 'joint_valid.png'} (seven licenses of five departments)")
    click.echo(f"API key of {department.issuer_uscc} (shown once): {key}")
    return services


COMMANDS = (demo,)
