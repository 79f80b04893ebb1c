"""Joint issuance's part of the region authorities' work (docs/joint.md): the departments' co-signing
keys (``issuer add-co-signing-key``, ``rotate-co-signing-key``, ``retire-co-signing-key``,
``compromise-co-signing-key``) and co-approval policies (``policy set``, ``policy show``)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from api.cli._context import (
    Context,
    F,
    chain_now,
    echo_tx,
    fail,
    password_source,
    signer_options,
    signing_account,
    uscc_option,
    when,
)
from api.cli.authority import issuer
from registry import OPEN_END
from registry.document.identifiers import issuer_id_from_uscc, uscc_from_issuer_id, validate_region, validate_uscc
from registry.document.licensetypes import CATALOG, get_type
from signer import co_signing_key_id, load_co_signing_key


def parse_hex(text: str, *, option: str, size: int, what: str) -> bytes:
    """``size`` bytes from hex text (``0x`` optional), or a one-line error naming ``option``."""
    digits = text.strip().removeprefix("0x").removeprefix("0X")
    try:
        value = bytes.fromhex(digits)
    except ValueError:
        fail(f"{option} must be {what} as {2 * size} hex digits; {text[:20]!r}... is not hex")
    if len(value) != size:
        fail(f"{option} must be {what} as {2 * size} hex digits ({size} bytes); got {len(value)} bytes")
    return value


def _key_material_options(fn: F) -> F:
    fn = click.option(
        "--co-signing-password-file",
        type=click.Path(dir_okay=False, path_type=Path),
        help="Password file of the --co-signing-keystore.",
    )(fn)
    fn = click.option(
        "--co-signing-password-env", metavar="VAR", help="Password variable of the --co-signing-keystore."
    )(fn)
    fn = click.option(
        "--co-signing-keystore",
        metavar="NAME|FILE",
        help="Take the key from this co-signing keystore instead (its holder's password is needed).",
    )(fn)
    fn = click.option("--proof", help="Its proof of possession, 96 bytes in hex (`elicense keys co-signing-proof`).")(
        fn
    )
    fn = click.option(
        "--proof-file",
        type=click.Path(dir_okay=False, path_type=Path),
        help="The JSON `elicense keys co-signing-proof` printed (public key and proof), instead of the two.",
    )(fn)
    return click.option("--public-key", help="The co-signing public key, 48 bytes in hex.")(fn)


def _proof_file(path: Path) -> tuple[str, str]:
    """(public key, proof) hex from the JSON ``keys co-signing-proof`` prints."""
    try:
        if path.stat().st_size > 4096:
            fail(f"{path} is larger than 4096 bytes; expected the JSON `elicense keys co-signing-proof` prints")
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        fail(f"cannot read {path}: {exc.strerror}")
    except (ValueError, UnicodeDecodeError):
        fail(f"{path} is not JSON; expected what `elicense keys co-signing-proof` prints")
    if not isinstance(data, dict) or not all(
        isinstance(data.get(k), str) for k in ("public_key", "proof_of_possession")
    ):
        fail(
            f"{path} lacks public_key and proof_of_possession (hex strings), as `elicense keys co-signing-proof` prints"
        )
    return data["public_key"], data["proof_of_possession"]


def _key_material(ctx: Context, opts: dict[str, Any]) -> tuple[bytes, bytes]:
    """(public key, proof of possession) from --public-key/--proof or a co-signing keystore."""
    public_key, proof, keystore = opts.pop("public_key"), opts.pop("proof"), opts.pop("co_signing_keystore")
    proof_file = opts.pop("proof_file", None)
    source = password_source(opts.pop("co_signing_password_env"), opts.pop("co_signing_password_file"))
    if proof_file is not None:
        if public_key is not None or proof is not None or keystore is not None:
            fail("give --proof-file alone, not with --public-key, --proof or --co-signing-keystore")
        public_key, proof = _proof_file(proof_file)
    if keystore is not None:
        if public_key is not None or proof is not None:
            fail("give either --co-signing-keystore or --public-key with --proof, not both")
        path = ctx.keystore_path(keystore)
        key = load_co_signing_key(path, source.read(purpose=str(path)))
        return key.public_key, key.proof_of_possession()
    if public_key is None or proof is None:
        fail("give --public-key and --proof (from `elicense keys co-signing-proof`), or --co-signing-keystore")
    return (
        parse_hex(public_key, option="--public-key", size=48, what="a compressed BLS12-381 public key"),
        parse_hex(proof, option="--proof", size=96, what="a proof of possession"),
    )


def key_id_argument(text: str) -> bytes:
    """A co-signing key named by its key id (32 bytes) or its public key (48 bytes), in hex."""
    digits = text.strip().removeprefix("0x")
    if len(digits) == 96:
        return co_signing_key_id(parse_hex(text, option="KEY", size=48, what="a public key"))
    return parse_hex(text, option="KEY", size=32, what="a co-signing key id (or its 48-byte public key)")


@issuer.command("add-co-signing-key")
@uscc_option
@_key_material_options
@click.option("--from", "--valid-from", "valid_from", help="Start: now (default), YYYY-MM-DD or ISO date-time.")
@click.option("--until", "--valid-until", "valid_until", help="End (exclusive); default open-ended.")
@signer_options
@click.pass_obj
def add_co_signing_key(
    ctx: Context, /, uscc: str, valid_from: str | None, valid_until: str | None, **opts: Any
) -> None:
    """Add a co-signing key (BLS12-381) to an issuer with its proof of possession, which the trust
    registry checks (signed by an authority of the issuer's region)."""
    public_key, proof = _key_material(ctx, opts)
    now = chain_now(ctx)
    tx = ctx.client().add_co_signing_key(
        signing_account(ctx, opts),
        issuer_id_from_uscc(uscc),
        public_key,
        proof,
        valid_from=when(valid_from, default=now),
        valid_until=when(valid_until, default=OPEN_END),
    )
    echo_tx(f"co-signing key 0x{co_signing_key_id(public_key).hex()} added to {uscc}", tx)


@issuer.command("rotate-co-signing-key")
@uscc_option
@click.argument("old_key")
@_key_material_options
@signer_options
@click.pass_obj
def rotate_co_signing_key(ctx: Context, /, uscc: str, old_key: str, **opts: Any) -> None:
    """End co-signing key OLD_KEY's window now (through the current second) and add the new key
    from now (an authority of the issuer's region)."""
    old_id = key_id_argument(old_key)
    public_key, proof = _key_material(ctx, opts)
    tx = ctx.client().rotate_co_signing_key(
        signing_account(ctx, opts), issuer_id_from_uscc(uscc), old_id, public_key, proof
    )
    echo_tx(f"co-signing key 0x{old_id.hex()} rotated to 0x{co_signing_key_id(public_key).hex()}", tx)


@issuer.command("retire-co-signing-key")
@uscc_option
@click.argument("key")
@signer_options
@click.pass_obj
def retire_co_signing_key(ctx: Context, /, uscc: str, key: str, **opts: Any) -> None:
    """End co-signing key KEY's window now; joint anchors made before keep counting."""
    key_id = key_id_argument(key)
    tx = ctx.client().retire_co_signing_key(signing_account(ctx, opts), issuer_id_from_uscc(uscc), key_id)
    echo_tx(f"co-signing key 0x{key_id.hex()} retired", tx)


@issuer.command("compromise-co-signing-key")
@uscc_option
@click.argument("key")
@click.option("--at", "at", required=True, help="When the key was compromised (YYYY-MM-DD or ISO date-time).")
@signer_options
@click.pass_obj
def compromise_co_signing_key(ctx: Context, /, uscc: str, key: str, at: str, **opts: Any) -> None:
    """Declare co-signing key KEY compromised since --at: joint anchors it co-signed since then stop
    counting."""
    key_id = key_id_argument(key)
    tx = ctx.client().declare_co_signing_key_compromised(
        signing_account(ctx, opts), issuer_id_from_uscc(uscc), key_id, compromised_at=when(at, default=0)
    )
    echo_tx(f"co-signing key 0x{key_id.hex()} declared compromised", tx)


@click.group()
def policy() -> None:
    """Co-approval policies (联合审批): the departments that must co-sign a license type's licenses
    issued in a region (region authorities)."""


def _type_id(code: str) -> bytes:
    return get_type(code).type_id


@policy.command("set")
@click.argument("region_code")
@click.argument("type_code")
@click.option(
    "--department", "departments", multiple=True, help="Credit code of a department that must co-sign (repeat)."
)
@signer_options
@click.pass_obj
def policy_set(ctx: Context, /, region_code: str, type_code: str, departments: tuple[str, ...], **opts: Any) -> None:
    """Require the co-signatures of the --department(s) for licenses of TYPE_CODE issued in
    REGION_CODE; without any --department, end the policy."""
    region_ = validate_region(region_code)
    ltype = get_type(type_code)
    codes = sorted({validate_uscc(d, field="--department") for d in departments})
    ids = sorted(issuer_id_from_uscc(d) for d in codes)
    tx = ctx.client().set_co_approval_policy(signing_account(ctx, opts), region_, ltype.type_id, ids)
    if codes:
        echo_tx(f"{ltype.code} ({ltype.zh}) in {region_} needs the co-signatures of {', '.join(codes)}", tx)
    else:
        echo_tx(f"the co-approval policy of {ltype.code} ({ltype.zh}) in {region_} ended", tx)


@policy.command("show")
@click.argument("region_code")
@click.argument("type_code", required=False)
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
def policy_show(ctx: Context, /, region_code: str, type_code: str | None, as_json: bool) -> None:
    """Show the co-approval policy of TYPE_CODE in REGION_CODE (every type of the catalogue
    without TYPE_CODE): the departments that must co-sign, with their names."""
    client = ctx.client()
    region_ = validate_region(region_code)
    codes = [get_type(type_code).code] if type_code else list(CATALOG)
    report: dict[str, list[dict[str, Any]]] = {}
    for code in codes:
        required = client.get_co_approval_policy(region_, _type_id(code))
        if not required and not type_code:
            continue
        rows = []
        for issuer_id in required:
            record = client.get_issuer(issuer_id)
            rows.append({"uscc": uscc_from_issuer_id(issuer_id), "name": record.name if record else None})
        report[code] = rows
    if as_json:
        click.echo(json.dumps({"region": region_, "policies": report}, ensure_ascii=False))
        return
    if not report:
        click.echo(f"no co-approval policy in {region_}")
    for code, rows in report.items():
        ltype = get_type(code)
        if not rows:
            click.echo(f"{code} ({ltype.zh}) in {region_}: no co-approval policy")
            continue
        click.echo(f"{code} ({ltype.zh}) in {region_} needs the co-signatures of:")
        for row in rows:
            click.echo(f"  {row['uscc']} {row['name'] or '(unregistered)'}")


COMMANDS = (policy,)
