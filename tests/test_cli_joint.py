"""Joint issuance through the command line, run as users run it (the ``elicense`` script as a
subprocess) against a hardhat node: co-signing keys created by the departments and registered by
their region's authority with the keys' proofs of possession, licenses issued by three departments
of 上海市, a joint application opened, filled, co-signed and anchored, its 联办码 verified; and the
mistakes users make, each refused with a one-line error that says what to do."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from _cli import run_elicense
from conftest import HardhatNode

from api.cli._explain import EXPLAINED, explain
from devkit.joint import SHANGHAI, credit_code, seven_requests
from registry import RegistryClient, connect, dev_accounts
from registry.document.application import JointApplicationId
from registry.document.identifiers import issuer_id_from_uscc
from registry.document.licensetypes import get_type
from registry.errors import ERROR_CATEGORIES, ContractRevertError
from registry.issuer.department import Department
from registry.issuer.joint import JointDesk
from registry.issuer.store import IssuerStore
from signer import CoSigningKey, LicenseSigner, create_co_signing_keystore, domain_separator, load_co_signing_key

pytestmark = pytest.mark.slow  # started first when the suite is spread over processes


ELICENSE = Path(sys.executable).parent / "elicense"
APPLICANT = credit_code("91310115MA1H8Y2K3")
NAME = "上海某某国际贸易有限公司"
#: The three departments of these tests, each with its development signing account.
SPECS = {s.key: s for s in SHANGHAI if s.key in ("sh-samr", "sh-tax", "sh-police")}
ACCOUNTS = {"sh-samr": 2, "sh-tax": 3, "sh-police": 4}
#: Three authorities of 上海市 (development accounts), so that their transactions can go side by side.
AUTHORITIES = {"sh-samr": 1, "sh-tax": 5, "sh-police": 6}
ISSUED = {"sh-samr": ("BL",), "sh-tax": ("TR",), "sh-police": ("SE",)}
SAMR, TAX, POLICE = (SPECS[k].uscc for k in ("sh-samr", "sh-tax", "sh-police"))
PASSWORD = "co-signing pass phrase"


@dataclass
class Home:
    path: Path
    url: str
    licenses: dict[str, str]  # license id by type code
    keys: dict[str, dict[str, str]]  # `keys co-signing-proof` by department key
    desk: JointDesk  # the same store, for setting up what a test does not exercise
    co_keys: dict[str, CoSigningKey]  # the departments' co-signing keys, opened once

    def run(self, *args: str, code: int | None = 0) -> subprocess.CompletedProcess[str]:
        """``elicense ARGS``; its exit code must be ``code`` (None: any)."""
        env = {**os.environ, "ELICENSE_HOME": str(self.path), "ELICENSE_RPC_URL": self.url, "PW": PASSWORD}
        result = run_elicense(*args, env=env)
        assert code is None or result.returncode == code, f"elicense {' '.join(args)}: {result.stdout}\n{result.stderr}"
        assert "Traceback" not in result.stderr
        return result

    def run_all(self, *commands: tuple[str, ...], code: int | None = 0) -> list[subprocess.CompletedProcess[str]]:
        """Independent commands, one after the other (in this process: quicker than side by side in
        processes of their own)."""
        return [self.run(*args, code=code) for args in commands]

    def error(self, *args: str) -> str:
        """The one-line error of a refused command (exit code 2)."""
        lines = self.run(*args, code=2).stderr.strip().splitlines()
        assert len(lines) == 1, lines
        assert lines[0].startswith("error: "), lines
        return lines[0]

    def open(self, *extra: str) -> str:
        return self.run(
            "joint", "open", "--lead", SAMR, "--applicant-uscc", APPLICANT, "--applicant-name", NAME, *extra
        ).stdout.strip()

    def cosign(self, app: str, key: str) -> str:
        return self.run(
            "joint", "cosign", app, "--department", SPECS[key].uscc, "--key", f"co-{key}", "--password-env", "PW"
        ).stdout

    def show(self, app: str) -> dict[str, Any]:
        data: dict[str, Any] = json.loads(self.run("joint", "show", app, "--json").stdout)
        return data

    def application(self, *codes: str) -> str:
        """An open application of the members ``codes``, made directly in the store."""
        app = self.desk.open(lead_uscc=SAMR, applicant_uscc=APPLICANT, applicant_name=NAME).application_id
        self.desk.add(app, [self.licenses[c] for c in codes])
        return app


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory, hardhat_node: HardhatNode) -> Home:
    """A deployment with 上海市 and three departments (signing keys: development accounts 2 to 4),
    their co-signing keys made by the departments and registered by the authorities through the
    CLI, and one license of each issued and anchored."""
    path = tmp_path_factory.mktemp("joint-cli") / "home"
    w3 = connect(hardhat_node.url)
    accounts = dev_accounts(w3)
    admin, authority = accounts[:2]
    client, _ = RegistryClient.deploy(w3, admin)
    d = client.deployment
    d.save(path / "deployment.json")
    client.add_region(admin, 310000, "上海市")
    for index in set(AUTHORITIES.values()):
        client.add_region_authority(admin, 310000, accounts[index].address)
    now = int(w3.eth.get_block("latest")["timestamp"])
    store = IssuerStore.at(path / "store.db")
    requests = seven_requests(APPLICANT, NAME, dt.date.today())
    licenses = {}
    for key, spec in SPECS.items():
        issuer_id = issuer_id_from_uscc(spec.uscc)
        account = accounts[ACCOUNTS[key]]
        client.register_issuer(authority, issuer_id, 310000, spec.name)
        client.add_key(authority, issuer_id, account, valid_from=now)
        signer = LicenseSigner(account, chain_id=d.chain_id, license_registry=d.license_registry)
        department = Department(issuer_uscc=spec.uscc, store=store, signer=signer, client=client, account=account)
        for code in ISSUED[key]:
            client.permit_license_type(authority, issuer_id, get_type(code).type_id, valid_from=now)
            licenses[code] = department.issue(requests[code]).license_id
        department.anchor_pending()
    desk = JointDesk(store, domain=domain_separator(d.chain_id, d.license_registry), client=client)
    h = Home(path, hardhat_node.url, licenses, {}, desk, {})

    # each department makes its co-signing key and hands out the public key with its proof
    created = h.run_all(*[("keys", "create", f"co-{k}", "--co-signing", "--password-env", "PW") for k in SPECS])
    assert [c.stdout.split()[0] for c in created] == [f"co-{k}" for k in SPECS]
    *proofs, listed = h.run_all(
        *[("keys", "co-signing-proof", f"co-{k}", "--password-env", "PW") for k in SPECS], ("keys", "list", "--json")
    )
    h.keys = {k: json.loads(p.stdout) for k, p in zip(SPECS, proofs, strict=True)}
    kinds = {r["name"]: (r["kind"], r["key_id"]) for r in json.loads(listed.stdout)}
    assert kinds == {f"co-{k}": ("co-signing", h.keys[k]["key_id"]) for k in SPECS}
    # the authorities register them from the public proofs (or from a keystore they hold)
    register = [
        (
            "issuer", "add-co-signing-key", "--uscc", SPECS[key].uscc, "--public-key", h.keys[key]["public_key"],
            "--proof", h.keys[key]["proof_of_possession"], "--dev-account", str(AUTHORITIES[key]),
        )
        for key in ("sh-samr", "sh-tax")
    ]  # fmt: skip
    register.append(
        (
            "issuer", "add-co-signing-key", "--uscc", POLICE, "--co-signing-keystore", "co-sh-police",
            "--co-signing-password-env", "PW", "--dev-account", str(AUTHORITIES["sh-police"]),
        )
    )  # fmt: skip
    h.run_all(*register)
    h.co_keys = {k: load_co_signing_key(path / "keys" / f"co-{k}.json", PASSWORD) for k in SPECS}
    return h


def test_a_joint_application_co_signed_and_anchored_verifies_from_its_qr_code(home: Home, tmp_path: Path):
    app = home.open()
    assert JointApplicationId.parse(app).lead_uscc == SAMR
    home.run("joint", "add", app, *home.licenses.values())
    home.run_all(*[_cosign(app, k) for k in ("sh-samr", "sh-tax")])
    # anchoring before every department co-signed names the ones missing
    error = home.error("joint", "anchor", app, "--dev-account", "2")
    assert f"lacks the co-signature of {POLICE} {SPECS['sh-police'].name}: run `elicense joint cosign" in error
    assert TAX not in error
    home.run(*_cosign(app, "sh-police"))
    assert f"{app} anchored: bundle 0x" in home.run("joint", "anchor", app, "--dev-account", "2").stdout

    png = tmp_path / "bundle.png"
    shown, listed, qr, tax = home.run_all(
        ("joint", "show", app, "--json"),
        ("joint", "list"),
        ("joint", "qr", app, "--png", str(png)),
        ("issuer", "show", "--uscc", TAX, "--json"),
    )
    data = json.loads(shown.stdout)
    assert (data["state"], data["applicant"]) == ("anchored", {"uscc": APPLICANT, "name": NAME})
    assert [(d["uscc"], d["cosigned"]) for d in data["departments"]] == [
        (u, "yes") for u in sorted((SAMR, TAX, POLICE), key=issuer_id_from_uscc)
    ]
    assert {d["uscc"]: d["name"] for d in data["departments"]}[TAX] == SPECS["sh-tax"].name
    assert {m["type"]["code"]: m["license_id"] for m in data["members"]} == home.licenses
    assert data["anchor"]["block_number"] > 0
    assert f"{app} anchored" in listed.stdout
    text = qr.stdout.strip()
    assert text.startswith("LB1:")
    assert "QR version" in qr.stderr
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # the authority sees the department's co-signing key
    keys = json.loads(tax.stdout)["co_signing_keys"]
    assert [(k["key_id"], k["until"], k["valid_now"]) for k in keys] == [(home.keys["sh-tax"]["key_id"], None, True)]

    as_json, readable, from_image = home.run_all(
        ("verify", "--text", text, "--json"),
        ("verify", "--text", text, "--lang", "en"),
        ("verify", "--image", str(png)),
    )
    result = json.loads(as_json.stdout)
    assert (result["kind"], result["status"], result["all_cosigned"]) == ("bundle", "valid", True)
    assert result["applicant"] == {"uscc": APPLICANT, "name": NAME}
    assert result["bundle_digest"] == data["bundle_digest"]
    assert {(m["license_id"], m["status"]) for m in result["members"]} == {(i, "valid") for i in home.licenses.values()}
    assert readable.stdout.startswith("VALID  Joint licenses: all valid")
    assert f"{SPECS['sh-police'].name} ({POLICE})  co-signed" in readable.stdout
    assert from_image.stdout.startswith("VALID  联办证照齐全有效")
    assert NAME in from_image.stdout

    # a member revoked afterwards: the bundle is not valid any more, and says which member and why
    home.run("license", "revoke", "--uscc", POLICE, home.licenses["SE"], "--reason", "3", "--dev-account", "4")
    as_json, readable = home.run_all(
        ("verify", "--text", text, "--json"), ("verify", "--text", text, "--lang", "en"), code=1
    )
    revoked = json.loads(as_json.stdout)
    assert revoked["status"] == "member_not_valid"
    assert [m["license_id"] for m in revoked["members"] if m["status"] == "revoked"] == [home.licenses["SE"]]
    assert readable.stdout.startswith("MEMBER_NOT_VALID")
    member = next(line for line in readable.stdout.splitlines() if "member" in line and home.licenses["SE"] in line)
    assert "REVOKED" in member

    # the police's co-signing key declared compromised since it was registered: its approval is void
    window = home.desk.client.get_co_signing_key(home.co_keys["sh-police"].key_id)  # type: ignore[union-attr]
    assert window is not None
    since = dt.datetime.fromtimestamp(window.valid_from, dt.UTC).isoformat()
    home.run(
        "issuer", "compromise-co-signing-key", "--uscc", POLICE, home.keys["sh-police"]["key_id"],
        "--at", since, "--dev-account", "1",
    )  # fmt: skip
    void = json.loads(home.run("verify", "--text", text, "--json", code=1).stdout)
    assert void["status"] == "co_approval_missing"
    assert [d["uscc"] for d in void["departments"] if not d["approved"]] == [POLICE]


def _cosign(app: str, key: str, *, name: str | None = None) -> tuple[str, ...]:
    keystore = name or f"co-{key}"
    return ("joint", "cosign", app, "--department", SPECS[key].uscc, "--key", keystore, "--password-env", "PW")


def test_mistakes_are_refused_before_anything_is_sent_with_an_error_that_says_what_to_do(home: Home):
    app = home.application("BL")
    rogue = CoSigningKey.generate()  # a key the chain does not know
    create_co_signing_keystore(home.path / "keys" / "rogue.json", PASSWORD, key=rogue, scrypt_n=2**14)
    key = home.keys["sh-samr"]["public_key"]
    unknown = JointApplicationId(SAMR, 99_999_999).text
    imported = ("joint", "import-cosignature", app, "--department", SAMR)
    errors = home.run_all(
        _cosign(app, "sh-samr", name="rogue"),
        _cosign(app, "sh-samr", name="nowhere"),
        (*imported, "--public-key", "0xzz", "--signature", "00" * 96),
        (*imported, "--public-key", key[:-2], "--signature", "00" * 96),
        (*imported, "--public-key", key, "--signature", "ff" * 96),
        (*imported, "--public-key", rogue.public_key.hex(), "--signature", rogue.sign(b"\x00" * 32).hex()),
        ("issuer", "add-co-signing-key", "--uscc", SAMR, "--public-key", key, "--proof", "12", "--dev-account", "1"),
        ("joint", "show", unknown),
        _cosign(unknown, "sh-samr"),
        ("joint", "add", "JA123", home.licenses["BL"]),
        code=2,
    )
    messages = [e.stderr.strip() for e in errors]
    for m in messages:
        assert len(m.splitlines()) == 1, m
        assert m.startswith("error: "), m
    expected = [
        f"that key is not a co-signing key of {SAMR} valid now on chain: register it",
        "no keystore at",
        "--public-key must be a compressed BLS12-381 public key as 96 hex digits; '0xzz'... is not hex",
        "--public-key must be a compressed BLS12-381 public key as 96 hex digits (48 bytes); got 47 bytes",
        "the aggregate signature:",
        "the co-signature does not verify with that key over the application's bundle",
        "--proof must be a proof of possession as 192 hex digits (96 bytes); got 1 bytes",
        f"no joint application {unknown} in this store",
        f"no joint application {unknown} in this store",
        "application id: 'JA123' has the wrong length",
    ]
    for message, part in zip(messages, expected, strict=True):
        assert part in message
    assert home.desk.get(app).cosignatures == ()

    # a proof that is a point of G2 but proves another key: the trust registry refuses it, in plain words
    stolen = home.error(
        "issuer", "add-co-signing-key", "--uscc", SAMR, "--public-key", rogue.public_key.hex(),
        "--proof", home.keys["sh-samr"]["proof_of_possession"], "--dev-account", "1",
    )  # fmt: skip
    assert f"the proof of possession does not prove the secret of co-signing key 0x{rogue.key_id.hex()}" in stolen
    assert stolen.endswith("(TrustRegistryInvalidProofOfPossession)")


def test_a_member_added_after_a_co_signature_makes_it_stale(home: Home):
    app = home.application("BL")
    home.run(*_cosign(app, "sh-samr"))
    assert [d["cosigned"] for d in home.show(app)["departments"]] == ["yes"]
    home.run("joint", "add", app, home.licenses["TR"])
    shown, anchor = home.run_all(
        ("joint", "show", app, "--json"), ("joint", "anchor", app, "--dev-account", "2"), code=None
    )
    assert {d["uscc"]: d["cosigned"] for d in json.loads(shown.stdout)["departments"]} == {SAMR: "stale", TAX: "no"}
    assert anchor.returncode == 2
    error = anchor.stderr.strip()
    assert f"{SAMR} {SPECS['sh-samr'].name} (stale: it signed the bundle before members changed)" in error
    assert f"lacks the co-signature of {TAX} {SPECS['sh-tax'].name};" in error


def test_a_policy_naming_a_department_that_did_not_co_sign_is_refused_in_plain_words(home: Home):
    app = home.application("BL")
    home.desk.cosign(app, SAMR, home.co_keys["sh-samr"])
    home.run("policy", "set", "310000", "BL", "--department", SAMR, "--department", TAX, "--dev-account", "1")
    try:
        policy, anchor = home.run_all(
            ("policy", "show", "310000", "BL", "--json"), ("joint", "anchor", app, "--dev-account", "2"), code=None
        )
        required = json.loads(policy.stdout)["policies"]["BL"]
        assert [d["uscc"] for d in required] == sorted([SAMR, TAX], key=issuer_id_from_uscc)
        assert anchor.returncode == 2
        error = anchor.stderr.strip()
        assert (
            "error: the chain refused the joint anchor: a co-approval policy (联合审批) of licenses of type BL "
            f"(营业执照) requires the co-signature of {TAX} ({SPECS['sh-tax'].name}), which is not among the "
            f"application's co-signing departments (BL (营业执照) {home.licenses['BL']})"
        ) in error
        assert error.endswith("(LicenseRegistryCoApprovalMissing)")
        # nothing was anchored: the application is open again; name the department, co-sign, anchor
        home.run("joint", "add", app, "--co-approver", TAX)
        home.run_all(_cosign(app, "sh-samr"), _cosign(app, "sh-tax"))
        home.run("joint", "anchor", app, "--dev-account", "2")
        assert home.desk.get(app).state == "anchored"
    finally:
        home.run("policy", "set", "310000", "BL", "--dev-account", "1")
    assert home.run("policy", "show", "310000", "BL").stdout.strip() == "BL (营业执照) in 310000: no co-approval policy"


def test_co_signing_keys_rotate_and_retire(home: Home):
    first, second = CoSigningKey.generate(), CoSigningKey.generate()
    now = int(home.desk.client.w3.eth.get_block("latest")["timestamp"])  # type: ignore[union-attr]
    authority = dev_accounts(home.desk.client.w3)[5]  # type: ignore[union-attr]
    home.desk.client.add_co_signing_key(  # type: ignore[union-attr]
        authority, issuer_id_from_uscc(TAX), first.public_key, first.proof_of_possession(), valid_from=now
    )
    home.run(
        "issuer", "rotate-co-signing-key", "--uscc", TAX, first.public_key.hex(), "--public-key",
        second.public_key.hex(), "--proof", second.proof_of_possession().hex(), "--dev-account", "5",
    )  # fmt: skip
    home.run("issuer", "retire-co-signing-key", "--uscc", TAX, "0x" + second.key_id.hex(), "--dev-account", "5")
    shown, again = home.run_all(
        ("issuer", "show", "--uscc", TAX, "--json"),
        ("issuer", "retire-co-signing-key", "--uscc", TAX, "0x" + second.key_id.hex(), "--dev-account", "5"),
        code=None,
    )
    keys = {k["key_id"]: k for k in json.loads(shown.stdout)["co_signing_keys"]}
    assert keys["0x" + first.key_id.hex()]["until"] is not None
    assert keys["0x" + second.key_id.hex()]["until"] is not None
    assert keys[home.keys["sh-tax"]["key_id"]]["until"] is None
    assert again.returncode == 2
    assert f"co-signing key 0x{second.key_id.hex()} of {TAX}" in again.stderr
    assert "was retired or rotated already (TrustRegistryCoSigningKeyClosed)" in again.stderr


def test_every_plain_words_rule_names_a_contract_error_and_falls_back_to_the_raw_error():
    assert set(ERROR_CATEGORIES) >= EXPLAINED
    missing = ERROR_CATEGORIES["LicenseRegistryCoApprovalMissing"](
        "LicenseRegistryCoApprovalMissing",
        {"digest": b"\x01" * 32, "license_type": get_type("BL").type_id, "issuer_id": issuer_id_from_uscc(TAX)},
    )
    assert explain(missing, {issuer_id_from_uscc(TAX): "税务局"}).startswith(
        f"the chain refused the joint anchor: a co-approval policy (联合审批) of licenses of type BL (营业执照) "
        f"requires the co-signature of {TAX} (税务局), which is not among the application's co-signing departments "
        f"(the member with digest 0x{'01' * 32})"
    )
    other = ContractRevertError("LicenseRegistryBatchExists", {"root": b"\x02" * 32})
    assert explain(other) == str(other)
    odd = ContractRevertError("LicenseRegistryJointExists", {"something_else": 1})
    assert explain(odd) == str(odd)


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("not json", "is not JSON"),
        ('{"public_key": "00"}', "lacks public_key and proof_of_possession"),
        ('{"public_key": "zz", "proof_of_possession": "00"}', "--public-key must be"),
        ("[" + " " * 5000 + "]", "larger than 4096 bytes"),
    ],
)
def test_a_bad_proof_file_is_refused_with_what_was_expected(tmp_path, content, expected):
    proof = tmp_path / "proof.json"
    proof.write_text(content, encoding="utf-8")
    result = subprocess.run(
        [str(ELICENSE), "--home", str(tmp_path), "issuer", "add-co-signing-key", "--uscc", "11110000MB0195560T",
         "--proof-file", str(proof), "--dev-account", "1"],
        capture_output=True, text=True, timeout=120, check=False, env={**os.environ, "ELICENSE_RPC_URL": ""},
    )  # fmt: skip
    assert result.returncode == 2
    assert expected in result.stderr
    assert result.stderr.startswith("error: ")
