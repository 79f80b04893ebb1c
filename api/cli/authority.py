"""Regions and issuers, kept by federation admins and region authorities: region, issuer."""

from __future__ import annotations

import json
from typing import Any

import click

from api.cli._context import Context, F, chain_now, echo_tx, fail, signer_options, signing_account, uscc_option, when
from api.cli._sm2 import sm2_keys
from registry import OPEN_END, RegistryClient
from registry.chain.events import CoSigningKeyAdded
from registry.document.identifiers import issuer_id_from_uscc, region_name, validate_region, validate_uscc
from registry.document.licensetypes import CATALOG, get_type


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


@click.group()
def region() -> None:
    """Regions and their authorities (federation admins)."""


@region.command("add")
@click.argument("code")
@click.argument("name", required=False)
@signer_options
@click.pass_obj
def region_add(ctx: Context, /, code: str, name: str | None, **opts: Any) -> None:
    """Add region CODE (GB/T 2260, e.g. 110000); NAME defaults to the official name."""
    region_code = validate_region(code)
    label = name or region_name(region_code) or str(region_code)
    echo_tx(
        f"region {region_code} {label} added", ctx.client().add_region(signing_account(ctx, opts), region_code, label)
    )


@region.command("add-authority")
@click.argument("code")
@click.argument("address")
@signer_options
@click.pass_obj
def region_add_authority(ctx: Context, /, code: str, address: str, **opts: Any) -> None:
    """Make ADDRESS an authority of region CODE."""
    tx = ctx.client().add_region_authority(signing_account(ctx, opts), validate_region(code), address)
    echo_tx(f"{address} is an authority of {code}", tx)


@region.command("remove-authority")
@click.argument("code")
@click.argument("address")
@signer_options
@click.pass_obj
def region_remove_authority(ctx: Context, /, code: str, address: str, **opts: Any) -> None:
    """Remove ADDRESS from the authorities of region CODE."""
    tx = ctx.client().remove_region_authority(signing_account(ctx, opts), validate_region(code), address)
    echo_tx(f"{address} is no longer an authority of {code}", tx)


@click.group()
def issuer() -> None:
    """Issuing departments, their keys and permitted license types (region authorities)."""


@issuer.command("register")
@uscc_option
@click.option("--region", "region_code", required=True, help="GB/T 2260 code of the department's region.")
@click.option("--name", required=True, help="The department's official name.")
@click.option("--profile-uri", default="", help="URL of the department's public profile.")
@signer_options
@click.pass_obj
def issuer_register(ctx: Context, /, uscc: str, region_code: str, name: str, profile_uri: str, **opts: Any) -> None:
    """Register a department as an issuer (signed by an authority of its region)."""
    issuer_id = issuer_id_from_uscc(uscc)
    tx = ctx.client().register_issuer(
        signing_account(ctx, opts), issuer_id, validate_region(region_code), name, profile_uri=profile_uri
    )
    echo_tx(f"issuer {validate_uscc(uscc)} {name} registered", tx)


@issuer.command("set-active")
@uscc_option
@click.argument("active", type=click.Choice(["yes", "no"]))
@signer_options
@click.pass_obj
def issuer_set_active(ctx: Context, /, uscc: str, active: str, **opts: Any) -> None:
    """Activate (yes) or deactivate (no) an issuer."""
    tx = ctx.client().set_issuer_active(signing_account(ctx, opts), issuer_id_from_uscc(uscc), active == "yes")
    echo_tx(f"issuer {uscc} active={active}", tx)


@issuer.command("add-key")
@uscc_option
@click.argument("address")
@click.option("--from", "valid_from", help="Start of the window: now (default), YYYY-MM-DD or ISO date-time.")
@click.option("--until", "valid_until", help="End of the window (exclusive); default open-ended.")
@_acceptance_option
@signer_options
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
    now = chain_now(ctx)
    tx = ctx.client().add_key(
        signing_account(ctx, opts),
        issuer_id_from_uscc(uscc),
        address,
        valid_from=when(valid_from, default=now),
        valid_until=when(valid_until, default=OPEN_END),
        acceptance=_acceptance(acceptance),
    )
    echo_tx(f"key {address} added to {uscc}", tx)


@issuer.command("rotate-key")
@uscc_option
@click.argument("old")
@click.argument("new")
@_acceptance_option
@signer_options
@click.pass_obj
def issuer_rotate_key(ctx: Context, /, uscc: str, old: str, new: str, acceptance: str, **opts: Any) -> None:
    """End key OLD's window now and add key NEW, with NEW's acceptance (signed by an authority or a
    valid key of the issuer)."""
    tx = ctx.client().rotate_key(
        signing_account(ctx, opts), issuer_id_from_uscc(uscc), old, new, acceptance=_acceptance(acceptance)
    )
    echo_tx(f"key {old} rotated to {new}", tx)


@issuer.command("retire-key")
@uscc_option
@click.argument("address")
@signer_options
@click.pass_obj
def issuer_retire_key(ctx: Context, /, uscc: str, address: str, **opts: Any) -> None:
    """End key ADDRESS's window now; licenses anchored before stay valid."""
    tx = ctx.client().retire_key(signing_account(ctx, opts), issuer_id_from_uscc(uscc), address)
    echo_tx(f"key {address} retired", tx)


@issuer.command("compromise-key")
@uscc_option
@click.argument("address")
@click.option("--at", "at", required=True, help="When the key was compromised (YYYY-MM-DD or ISO date-time).")
@signer_options
@click.pass_obj
def issuer_compromise_key(ctx: Context, /, uscc: str, address: str, at: str, **opts: Any) -> None:
    """Declare key ADDRESS compromised since --at: licenses it anchored since then become invalid."""
    tx = ctx.client().declare_key_compromised(
        signing_account(ctx, opts), issuer_id_from_uscc(uscc), address, compromised_at=when(at, default=0)
    )
    echo_tx(f"key {address} declared compromised", tx)


@issuer.command("permit")
@uscc_option
@click.option("--type", "type_code", required=True, help="License type code: " + ", ".join(CATALOG))
@click.option("--from", "valid_from", help="Start: now (default), YYYY-MM-DD or ISO date-time.")
@click.option("--until", "valid_until", help="End (exclusive); default open-ended.")
@signer_options
@click.pass_obj
def issuer_permit(
    ctx: Context, /, uscc: str, type_code: str, valid_from: str | None, valid_until: str | None, **opts: Any
) -> None:
    """Permit an issuer to issue a license type within a window."""
    now = chain_now(ctx)
    ltype = get_type(type_code)
    tx = ctx.client().permit_license_type(
        signing_account(ctx, opts),
        issuer_id_from_uscc(uscc),
        ltype.type_id,
        valid_from=when(valid_from, default=now),
        valid_until=when(valid_until, default=OPEN_END),
    )
    echo_tx(f"{uscc} may issue {ltype.code} ({ltype.zh})", tx)


def co_signing_keys(client: RegistryClient, issuer_id: bytes) -> list[dict[str, Any]]:
    """The issuer's co-signing keys (from the chain's CoSigningKeyAdded events) with their windows now."""
    now = int(client.w3.eth.get_block("latest")["timestamp"])
    found = []
    for event in client.get_events(client.deployment.block_number):
        if not isinstance(event, CoSigningKeyAdded) or event.issuer_id != issuer_id:
            continue
        window = client.get_co_signing_key(event.key_id)
        if window is None:
            continue
        found.append(
            {
                "key_id": "0x" + event.key_id.hex(),
                "from": window.valid_from,
                "until": None if window.valid_until == OPEN_END else window.valid_until,
                "valid_now": window.contains(now),
            }
        )
    return found


@issuer.command("show")
@uscc_option
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
def issuer_show(ctx: Context, /, uscc: str, as_json: bool) -> None:
    """Show an issuer as the chain records it: permitted types, co-signing keys, and SM2 keys (each
    bound account, its SM2 public key and ID, whether its proof verifies, its certificate's subject)."""
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
        "co_signing_keys": co_signing_keys(client, issuer_id),
        "sm2_keys": sm2_keys(client, issuer_id),
    }
    click.echo(json.dumps(report, ensure_ascii=False, indent=None if as_json else 2))


COMMANDS = (region, issuer)
