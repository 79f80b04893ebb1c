"""Verification receipts: signed offline, refused when tampered with in any way, and checked against
the chain later (right at its block, or wrong)."""

from __future__ import annotations

import copy
import json
import os
import stat

import pytest
from click.testing import CliRunner
from conftest import make_issued

from api.cli import cli
from devkit.samples import SampleFactory
from devkit.world import deploy_department
from registry import connect
from registry.issuer.store import IssuerStore
from signer import KeystoreError, PasswordError, WrongPasswordError
from verifier.receipt_check import check_receipt_against_chain, receipt_for_client_state
from verifier.receipts import (
    MAX_RECEIPT_BYTES,
    ReceiptError,
    VerifierIdentity,
    VerifierPublicKey,
    parse_receipt,
    verify_receipt,
)
from verifier.state import ChainClientState

FAST_N = 2**14  # scrypt cost for tests (the default is 2^18)


@pytest.fixture(scope="module")
def identity() -> VerifierIdentity:
    return VerifierIdentity.generate("310000-shanghai-verify")


@pytest.fixture
def world(tmp_path):
    """A chain with anchored licenses, a verifier on it, and the state it answered from."""
    return make_issued(tmp_path, count=4)


def _receipt(world, identity, index=0):
    state = ChainClientState(world.client)
    state.sync()
    world.verifier.state = state
    result = world.verifier.check(world.text(index)).to_dict()
    return receipt_for_client_state(result, identity, world.client, state), result


# -- offline -----------------------------------------------------------------------------------------


def test_a_receipt_is_verified_offline_and_says_what_was_answered(world, identity):
    signed, result = _receipt(world, identity)
    check = verify_receipt(json.dumps(signed), [identity.public])
    assert check.ok, check.detail
    r = check.receipt
    assert r is not None
    assert (r.status, r.subject, r.digest) == ("valid", result["license_id"], result["digest"])
    assert r.reasons == ("valid",)
    assert r.issuer == result["issuer"]["uscc"]
    assert r.block_number == result["chain"]["block_number"]
    assert r.block_hash == "0x" + bytes(world.client.w3.eth.get_block(r.block_number)["hash"]).hex()
    assert r.chain_id == world.client.deployment.chain_id
    assert r.verifier_id == "310000-shanghai-verify"
    assert r.verifier_key == identity.public.fingerprint
    # bare key bytes work too, and the same receipt re-indented still verifies (canonical bytes signed)
    assert verify_receipt(json.dumps(signed, indent=2).encode(), [identity.public.public_key]).ok


def _tampered(signed, path, value):
    out = copy.deepcopy(signed)
    target = out
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = value
    return out


@pytest.mark.parametrize(
    ("path", "value"),
    [
        (("receipt", "status"), "revoked"),
        (("receipt", "block_number"), 1),
        (("receipt", "head_block"), 10**6),
        (("receipt", "block_hash"), "0x" + "11" * 32),
        (("receipt", "checked_at"), 1),
        (("receipt", "reasons"), []),
        (("receipt", "digest"), "0x" + "ab" * 32),
    ],
)
def test_every_change_to_the_receipt_breaks_its_signature(world, identity, path, value):
    signed, _ = _receipt(world, identity)
    check = verify_receipt(_tampered(signed, path, value), [identity.public])
    assert not check.ok
    assert check.code == "bad_signature"


def test_a_changed_signature_is_refused(world, identity):
    signed, _ = _receipt(world, identity)
    sig = bytearray.fromhex(signed["signature"])
    sig[5] ^= 1
    assert verify_receipt({**signed, "signature": sig.hex()}, [identity.public]).code == "bad_signature"


def test_another_verifiers_key_is_not_trusted(world, identity):
    signed, _ = _receipt(world, identity)
    rogue = VerifierIdentity.generate("310000-shanghai-verify")  # same name, another key
    assert verify_receipt(signed, [rogue.public]).code == "unknown_verifier"
    # a rogue service signing its own receipt with the trusted service's name and fingerprint
    forged = copy.deepcopy(signed)
    forged["signature"] = rogue.sign(
        json.dumps(forged["receipt"], sort_keys=True, separators=(",", ":")).encode()
    ).hex()
    assert verify_receipt(forged, [identity.public]).code == "bad_signature"
    # the right key under another service's name is not that service
    other_name = VerifierPublicKey("110000-beijing-verify", identity.public.public_key)
    assert verify_receipt(signed, [other_name]).code == "unknown_verifier"
    assert verify_receipt(signed, []).code == "unknown_verifier"


@pytest.mark.parametrize(
    "mangle",
    [
        lambda text: text[: len(text) // 2],  # truncated
        lambda text: text + " " * MAX_RECEIPT_BYTES,  # oversized
        lambda _text: "\x00\xff garbage",
        lambda _text: "[" * 100_000,  # deeply nested
        lambda _text: "null",
        lambda text: text.replace('"signature"', '"sig"'),
        lambda text: text.replace('"format":"elicense-receipt/1"', '"format":"elicense-receipt/2"'),
        lambda text: text.replace('"kind":"license"', '"kind":"passport"'),
        lambda text: text.replace('"status":"valid"', '"status":"VALID"'),
        lambda text: text.replace('"status":"valid"', '"status":"member_not_valid"'),  # a bundle's outcome
        lambda text: text.replace('"checked_at":', '"checked_at":-1,"x":'),
    ],
)
def test_hostile_input_is_malformed_never_an_exception(world, identity, mangle):
    signed, _ = _receipt(world, identity)
    text = json.dumps(signed, separators=(",", ":"), sort_keys=True)
    check = verify_receipt(mangle(text), [identity.public])
    assert check.code == "malformed", check
    assert check.detail


@pytest.mark.parametrize(
    ("member", "value", "says"),
    [
        ("block_number", "12", "integer"),
        ("block_number", True, "integer"),
        ("block_number", 2**64, "integer"),
        ("chain_id", 0, "integer from 1"),
        ("block_hash", "0x" + "AB" * 32, "block_hash"),
        ("block_hash", "0x" + "ab" * 31, "block_hash"),
        ("digest", 12, "digest"),
        ("reasons", ["valid"] * 33, "at most 32"),
        ("reasons", ["Valid!"], "reasons"),
        ("valid_from", "2026-02-30", "calendar date"),
        ("verifier_id", "x" * 65, "service id"),
        ("issuer", "not a code", "issuer"),
    ],
)
def test_each_member_is_checked_for_its_form(world, identity, member, value, says):
    signed, _ = _receipt(world, identity)
    with pytest.raises(ReceiptError, match=says):
        parse_receipt(_tampered(signed, ("receipt", member), value))


def test_head_block_before_block_number_is_malformed(world, identity):
    signed, _ = _receipt(world, identity)
    with pytest.raises(ReceiptError, match="head_block"):
        parse_receipt(_tampered(signed, ("receipt", "head_block"), signed["receipt"]["block_number"] - 1))


# -- the identity on disk ------------------------------------------------------------------------------


def test_the_identity_is_stored_encrypted_and_owner_only(tmp_path, identity):
    path = identity.save(tmp_path / "keys" / "receipts.json", "a long password", scrypt_n=FAST_N)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    text = path.read_text()
    secret = identity._key.private_bytes_raw().hex()
    assert secret not in text
    assert "crypto" in json.loads(text)
    assert secret not in repr(identity)
    loaded = VerifierIdentity.load(path, "a long password")
    assert loaded.public == identity.public
    with pytest.raises(WrongPasswordError):
        VerifierIdentity.load(path, "the wrong password")
    with pytest.raises(KeystoreError, match="never overwritten"):
        identity.save(path, "a long password", scrypt_n=FAST_N)
    # a key file whose recorded public key was swapped is refused
    doc = json.loads(text)
    doc["publicKey"] = VerifierIdentity.generate("x").public.public_key.hex()
    swapped = tmp_path / "swapped.json"
    swapped.write_text(json.dumps(doc))
    with pytest.raises(KeystoreError, match="another public key"):
        VerifierIdentity.load(swapped, "a long password")


def test_published_keys_parse_strictly(identity):
    published = json.dumps(identity.public.to_dict())
    assert VerifierPublicKey.parse(published) == identity.public
    assert VerifierPublicKey.parse(identity.public.public_key.hex()) == identity.public.public_key
    for bad in ["", "zz" * 32, "{}", '{"service_id": "a", "public_key": "00"}', "x" * 5000]:
        with pytest.raises(ReceiptError):
            VerifierPublicKey.parse(bad)


# -- against the chain ---------------------------------------------------------------------------------


def test_a_receipt_right_at_its_block_stays_right_after_a_later_revocation(world, identity):
    signed, result = _receipt(world, identity)
    assert result["status"] == "valid"
    world.department.revoke([result["license_id"]], reason=3)
    receipt, _ = parse_receipt(signed)
    check = check_receipt_against_chain(receipt, world.client)
    assert check.verdict == "right", check.detail
    assert (check.chain_status, check.status_now) == ("valid", "revoked")
    assert "revoked" in check.detail


def test_a_receipt_claiming_valid_for_a_license_revoked_before_is_wrong(world, identity):
    lid = world.rows[1].license_id
    world.department.revoke([lid], reason=3)
    signed, result = _receipt(world, identity, index=1)
    assert result["status"] == "revoked"  # what an honest service answers
    # a service that missed the revocation (or lied) signs "valid" at the same block
    liar = copy.deepcopy(result)
    liar["status"], liar["reasons"] = "valid", [{"code": "valid", "zh": "", "en": ""}]
    state = ChainClientState(world.client)
    state.sync()
    lying = receipt_for_client_state(liar, identity, world.client, state)
    assert verify_receipt(lying, [identity.public]).ok  # its signature is good: only the chain tells
    receipt, _ = parse_receipt(lying)
    check = check_receipt_against_chain(receipt, world.client)
    assert check.verdict == "wrong"
    assert check.chain_status == "revoked"
    honest, _ = parse_receipt(signed)
    assert check_receipt_against_chain(honest, world.client).verdict == "right"


def test_a_receipt_for_another_block_or_chain_is_refused(world, identity):
    signed, _ = _receipt(world, identity)
    receipt, _ = parse_receipt(signed)
    moved = _tampered(signed, ("receipt", "block_hash"), "0x" + "22" * 32)
    check = check_receipt_against_chain(parse_receipt(moved)[0], world.client)
    assert check.verdict == "block_mismatch"
    future = _tampered(signed, ("receipt", "block_number"), receipt.block_number + 1000)
    future["receipt"]["head_block"] = receipt.block_number + 1000
    assert check_receipt_against_chain(parse_receipt(future)[0], world.client).verdict == "block_mismatch"
    other = _tampered(signed, ("receipt", "chain_id"), receipt.chain_id + 1)
    assert check_receipt_against_chain(parse_receipt(other)[0], world.client).verdict == "wrong_chain"


def test_a_tampered_answer_cannot_be_checked_on_chain(world, identity):
    text = world.text(2)
    forged = text[:-6] + ("A" if text[-6] != "A" else "B") + text[-5:]
    state = ChainClientState(world.client)
    state.sync()
    world.verifier.state = state
    result = world.verifier.check(forged).to_dict()
    assert result["status"] in ("tampered", "malformed")
    signed = receipt_for_client_state(result, identity, world.client, state)
    assert verify_receipt(signed, [identity.public]).ok
    check = check_receipt_against_chain(parse_receipt(signed)[0], world.client)
    assert check.verdict == "not_checkable"


# -- through the command line, against a hardhat node --------------------------------------------------


def test_the_command_line_files_verifies_and_checks_a_receipt(tmp_path, hardhat_node):
    setup = deploy_department(connect(hardhat_node.url))
    department = setup.department(IssuerStore.at(tmp_path / "store.db"))
    rows = department.issue_many([SampleFactory(7).business_license() for _ in range(2)])
    department.anchor_pending()
    home = tmp_path / "home"
    home.mkdir()
    setup.client.deployment.save(home / "deployment.json")
    text = department.presentation(rows[0].license_id, None).to_text()
    runner = CliRunner()
    env = {"RECEIPT_PW": "receipt key password"}

    def run(*args: str, code: int = 0) -> str:
        result = runner.invoke(cli, ["--home", str(home), "--rpc-url", hardhat_node.url, *args], env=env)
        assert result.exit_code == code, (args, result.output, result.exception)
        return result.output

    pub = tmp_path / "shanghai.pub.json"
    # no password given: refused, saying what to give (`elicense` prints it as an error, exit 2)
    nopw = runner.invoke(cli, ["--home", str(home), "receipt", "key", "create", "shanghai", "--service-id", "x"])
    assert isinstance(nopw.exception, PasswordError)
    assert "--password-env" in str(nopw.exception)
    assert not (home / "keys" / "shanghai.json").exists()
    run("receipt", "key", "create", "shanghai", "--service-id", "310000-shanghai-verify",
        "--password-env", "RECEIPT_PW", "--out", str(pub))  # fmt: skip
    shown = json.loads(run("receipt", "key", "show", "shanghai"))
    assert shown == json.loads(pub.read_text())
    filed = tmp_path / "receipt.json"
    assert "--receipt-key" in run("verify", "--text", text, "--receipt", str(filed), code=2)
    run("verify", "--text", text, "--receipt", str(filed), "--receipt-key", "shanghai", "--password-env", "RECEIPT_PW")
    assert json.loads(filed.read_text())["receipt"]["status"] == "valid"
    assert "never overwritten" in run(
        "verify", "--text", text, "--receipt", str(filed), "--receipt-key", "shanghai", "--password-env", "RECEIPT_PW",
        code=2,
    )  # fmt: skip

    assert run("receipt", "verify", str(filed), "--trust", str(pub)).startswith("VALID")
    run("receipt", "verify", str(filed), "--trust", shown["public_key"])
    other = VerifierIdentity.generate("310000-shanghai-verify").public.public_key.hex()
    assert run("receipt", "verify", str(filed), "--trust", other, code=1).startswith("UNKNOWN_VERIFIER")
    changed = json.loads(filed.read_text())
    changed["receipt"]["status"] = "revoked"
    (tmp_path / "changed.json").write_text(json.dumps(changed))
    assert run("receipt", "verify", str(tmp_path / "changed.json"), "--trust", str(pub), code=1).startswith(
        "BAD_SIGNATURE"
    )
    (tmp_path / "garbage.json").write_bytes(os.urandom(300))
    assert run("receipt", "verify", str(tmp_path / "garbage.json"), "--trust", str(pub), code=1).startswith("MALFORMED")
    assert "--trust" in run("receipt", "verify", str(filed), "--trust", "not-a-key", code=2)

    department.revoke([rows[0].license_id], reason=3)
    out = json.loads(run("receipt", "check", str(filed), "--rpc-url", hardhat_node.url, "--trust", str(pub), "--json"))
    assert (out["verdict"], out["chain_status"], out["status_now"]) == ("right", "valid", "revoked")
    # the same service, asked again now, answers revoked; a receipt claiming valid now is wrong
    later = tmp_path / "later.json"
    run("verify", "--text", text, "--receipt", str(later), "--receipt-key", "shanghai", "--password-env", "RECEIPT_PW",
        code=1)  # fmt: skip
    lie = json.loads(later.read_text())
    assert lie["receipt"]["status"] == "revoked"
    lie["receipt"]["status"], lie["receipt"]["reasons"] = "valid", ["valid"]
    (tmp_path / "lie.json").write_text(json.dumps(lie))
    assert run("receipt", "check", str(tmp_path / "lie.json"), code=1).startswith("WRONG")
    # a relying department with only the deployment file (no HOME of its own)
    elsewhere = runner.invoke(
        cli,
        ["--home", str(tmp_path / "elsewhere"), "receipt", "check", str(filed), "--rpc-url", hardhat_node.url,
         "--deployment", str(home / "deployment.json")],
    )  # fmt: skip
    assert elsewhere.exit_code == 0, elsewhere.output
    assert elsewhere.output.startswith("RIGHT")
