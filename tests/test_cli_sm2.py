"""SM2 keys through the command line, run as users run it (the ``elicense`` script as a subprocess)
against a hardhat node: a 北京市 department creates (or imports) its SM2 key beside its anchoring
account, makes its binding file, and its region authority checks it and binds the key on chain; and
the mistakes users make, each refused with a one-line error that says what went wrong: a wrong
password, a certificate of another key, a proof made by another key, a file for another department
or deployment, an authority of another region."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from _cli import run_elicense
from conftest import HardhatNode

from devkit.certificates import self_signed_certificate
from devkit.samples import SampleFactory
from devkit.serving import serve_command
from devkit.waiting import wait_until
from registry import RegistryClient, connect, dev_accounts
from registry.document.identifiers import issuer_id_from_uscc
from registry.document.licensetypes import get_type
from signer import Sm2SigningKey, create_sm2_keystore, load_account, load_sm2_key, verify_sm2_key_acceptance

pytestmark = pytest.mark.slow  # started first when the suite is spread over processes


ELICENSE = Path(sys.executable).parent / "elicense"
USCC = "11110000MB0195560T"  # 北京市市场监督管理局 (division 110000)
OTHER_USCC = "11110000000021135M"  # 北京市住房和城乡建设委员会
THIRD_USCC = "91110000L30P8774PN"  # a third 北京市 department
PASSWORD = "sm2 department pass phrase"
BEIJING_AUTHORITY, SHANGHAI_AUTHORITY = 1, 5


@dataclass
class Home:
    path: Path
    url: str
    client: RegistryClient

    def run(
        self, *args: str, code: int | None = 0, env: dict[str, str] | None = None
    ) -> subprocess.CompletedProcess[str]:
        full = {
            **os.environ,
            "ELICENSE_HOME": str(self.path),
            "ELICENSE_RPC_URL": self.url,
            "PW": PASSWORD,
            **(env or {}),
        }
        result = run_elicense(*args, env=full)
        assert code is None or result.returncode == code, f"elicense {' '.join(args)}: {result.stdout}\n{result.stderr}"
        assert "Traceback" not in result.stderr
        return result

    def error(self, *args: str, env: dict[str, str] | None = None) -> str:
        lines = self.run(*args, code=2, env=env).stderr.strip().splitlines()
        assert len(lines) == 1, lines
        assert lines[0].startswith("error: "), lines
        return lines[0]

    def show(self, uscc: str = USCC) -> dict[str, Any]:
        data: dict[str, Any] = json.loads(self.run("issuer", "show", "--uscc", uscc, "--json").stdout)
        return data


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory, hardhat_node: HardhatNode) -> Home:
    """A deployment with 北京市 (authority: dev account 1) and 上海市 (dev account 5), and two 北京市
    departments registered, with no key yet."""
    path = tmp_path_factory.mktemp("sm2-cli") / "home"
    w3 = connect(hardhat_node.url)
    accounts = dev_accounts(w3)
    admin = accounts[0]
    client, _ = RegistryClient.deploy(w3, admin)
    client.deployment.save(path / "deployment.json")
    client.add_region(admin, 110000, "北京市")
    client.add_region_authority(admin, 110000, accounts[BEIJING_AUTHORITY].address)
    client.add_region(admin, 310000, "上海市")
    client.add_region_authority(admin, 310000, accounts[SHANGHAI_AUTHORITY].address)
    client.register_issuer(accounts[BEIJING_AUTHORITY], issuer_id_from_uscc(USCC), 110000, "北京市市场监督管理局")
    client.register_issuer(accounts[BEIJING_AUTHORITY], issuer_id_from_uscc(OTHER_USCC), 110000, "北京市住建委")
    return Home(path, hardhat_node.url, client)


def _write_pem(path: Path, key: Sm2SigningKey, password: str | None = None) -> Path:
    path.write_bytes(key.to_pkcs8_pem(password))
    return path


def test_a_department_creates_its_sm2_key_and_its_authority_binds_it(home: Home, tmp_path: Path):
    created = home.run(
        "keys", "create", "bj-samr", "--suite", "sm2", "--id", "bj-samr@samr.beijing", "--password-env", "PW"
    )
    account_line, sm2_line = created.stdout.strip().splitlines()
    name, address, account_file = account_line.split()
    assert (name, Path(account_file)) == ("bj-samr", home.path / "keys" / "bj-samr.json")
    name, kind, public_key, sm2_file = sm2_line.split()
    assert (name, kind, Path(sm2_file)) == ("bj-samr", "sm2", home.path / "keys" / "bj-samr.sm2.json")
    key, certificate = load_sm2_key(sm2_file, PASSWORD)  # one password opens both
    assert (key.public_key.hex(), key.distinguishing_id, certificate) == (public_key[2:], b"bj-samr@samr.beijing", None)
    assert load_account(account_file, PASSWORD).address == address
    for file in (account_file, sm2_file):
        assert os.stat(file).st_mode & 0o777 == 0o600
        assert PASSWORD not in Path(file).read_text()
        assert key.secret_bytes().hex() not in Path(file).read_text()
    listed = {r["name"]: r for r in json.loads(home.run("keys", "list", "--json").stdout)}
    assert listed["bj-samr"] == {"name": "bj-samr", "kind": "signing", "address": address}
    assert listed["bj-samr.sm2"] == {"name": "bj-samr.sm2", "kind": "sm2", "public_key": public_key}
    assert "exists already" in home.error("keys", "create", "bj-samr", "--suite", "sm2", "--password-env", "PW")

    # the department makes its binding file; the authority checks it and binds the key
    binding = tmp_path / "bj-samr.binding.json"
    home.run("keys", "sm2-proof", "bj-samr", "--uscc", USCC, "--out", str(binding), "--password-env", "PW")
    data = json.loads(binding.read_text())
    assert (data["account"], data["sm2_public_key"], data["certificate"]) == (address, public_key, "")
    assert PASSWORD not in binding.read_text()
    assert key.secret_bytes().hex() not in binding.read_text()
    d = home.client.deployment
    assert verify_sm2_key_acceptance(
        issuer_id=issuer_id_from_uscc(USCC),
        account=address,
        sm2_public_key=key.public_key,
        distinguishing_id=key.distinguishing_id,
        proof=bytes.fromhex(data["proof"][2:]),
        chain_id=d.chain_id,
        trust_registry=d.trust_registry,
    )
    added = home.run("issuer", "add-sm2-key", "--uscc", USCC, "--binding", str(binding), "--dev-account", "1")
    assert f"key {address} added to {USCC}, bound to SM2 key {public_key[:18]}..." in added.stdout
    assert home.client.get_sm2_key(address) is not None
    (shown,) = home.show()["sm2_keys"]
    assert shown == {
        "account": address,
        "sm2_public_key": public_key,
        "distinguishing_id": "bj-samr@samr.beijing",
        "proof_verifies": True,
        "certificate_subject": None,
        "from": shown["from"],
        "until": None,
        "valid_now": True,
    }
    assert shown["from"] <= home.client.w3.eth.get_block("latest")["timestamp"]
    # the same file again: the account is a key already
    assert f"account {address} is already a key of {USCC}" in home.error(
        "issuer", "add-sm2-key", "--uscc", USCC, "--binding", str(binding), "--dev-account", "1"
    )

    # rotation: a new SM2 key with a new account, imported from PKCS#8 with its certificate
    new_key = Sm2SigningKey.generate()
    pem = _write_pem(tmp_path / "new.pem", new_key, "pem pass phrase")
    cert = tmp_path / "new.cer"
    cert.write_bytes(self_signed_certificate(new_key, "北京市市场监督管理局电子签名"))
    imported = home.run(
        "keys", "import-sm2", "bj-samr-2", str(pem), "--certificate", str(cert), "--pem-password-env", "PEMPW",
        "--password-env", "PW", env={"PEMPW": "pem pass phrase"},
    )  # fmt: skip
    assert f"bj-samr-2 sm2 0x{new_key.public_key.hex()}" in imported.stdout
    assert "certificate: CN=北京市市场监督管理局电子签名" in imported.stdout
    new_binding = tmp_path / "bj-samr-2.binding.json"
    home.run("keys", "sm2-proof", "bj-samr-2", "--uscc", USCC, "--out", str(new_binding), "--password-env", "PW")
    new_address = json.loads(new_binding.read_text())["account"]
    rotated = home.run(
        "issuer", "rotate-sm2-key", "--uscc", USCC, address, "--binding", str(new_binding), "--dev-account", "1"
    )
    assert f"key {address} rotated to {new_address}" in rotated.stdout
    rotated_at = home.client.w3.eth.get_block("latest")["timestamp"]
    assert "(CN=北京市市场监督管理局电子签名," in rotated.stdout
    old, new = home.show()["sm2_keys"]
    assert old["account"] == address
    assert old["until"] == rotated_at + 1  # valid through the second of its rotation
    assert (new["account"], new["valid_now"], new["proof_verifies"]) == (new_address, True, True)
    assert new["certificate_subject"].startswith("CN=北京市市场监督管理局电子签名,O=北京市市场监督管理局")


def test_mistakes_are_refused_in_plain_words_before_anything_is_sent(home: Home, tmp_path: Path):
    home.run("keys", "create", "bj-housing", "--suite", "sm2", "--password-env", "PW")
    # a wrong password
    assert "the password does not open" in home.error(
        "keys",
        "sm2-proof",
        "bj-housing",
        "--uscc",
        OTHER_USCC,
        "--password-env",
        "WRONG",
        env={"WRONG": "not the pass phrase"},
    )
    # a key name without its SM2 keystore
    home.run("keys", "create", "plain", "--password-env", "PW")
    assert "plain.sm2.json" in home.error("keys", "sm2-proof", "plain", "--uscc", OTHER_USCC, "--password-env", "PW")
    # a certificate whose key differs, at import and at the proof
    stranger = Sm2SigningKey.generate()
    foreign = tmp_path / "foreign.cer"
    foreign.write_bytes(self_signed_certificate(stranger))
    pem = _write_pem(tmp_path / "k.pem", Sm2SigningKey.generate())
    assert "certifies another public key" in home.error(
        "keys", "import-sm2", "imported", str(pem), "--certificate", str(foreign), "--password-env", "PW"
    )
    assert not (home.path / "keys" / "imported.sm2.json").exists()
    assert "certifies another public key" in home.error(
        "keys", "sm2-proof", "bj-housing", "--uscc", OTHER_USCC, "--certificate", str(foreign), "--password-env", "PW"
    )
    # a PKCS#8 file that is no SM2 key
    not_pem = tmp_path / "not.pem"
    not_pem.write_text("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n")
    assert "not a usable PKCS#8 SM2 key" in home.error(
        "keys", "import-sm2", "bad", str(not_pem), "--password-env", "PW"
    )

    good = tmp_path / "good.json"
    home.run("keys", "sm2-proof", "bj-housing", "--uscc", OTHER_USCC, "--out", str(good), "--password-env", "PW")
    data = json.loads(good.read_text())
    add = ("issuer", "add-sm2-key", "--uscc", OTHER_USCC, "--dev-account", "1", "--binding")

    def variant(**change: Any) -> str:
        path = tmp_path / f"variant-{len(list(tmp_path.iterdir()))}.json"
        path.write_text(json.dumps({**data, **change}))
        return str(path)

    # a proof made by another SM2 key (the file's key swapped for another's proof)
    other = tmp_path / "other.json"
    home.run("keys", "create", "spare", "--suite", "sm2", "--password-env", "PW")
    home.run("keys", "sm2-proof", "spare", "--uscc", OTHER_USCC, "--out", str(other), "--password-env", "PW")
    swapped = variant(proof=json.loads(other.read_text())["proof"])
    assert "the SM2 proof of possession does not verify" in home.error(*add, swapped)
    # a proof made for another account (the file's account swapped)
    assert "does not verify" in home.error(*add, variant(account=json.loads(other.read_text())["account"]))
    # a certificate of another key slipped into the file
    assert "certifies another public key" in home.error(
        *add, variant(certificate="0x" + self_signed_certificate(stranger).hex())
    )
    # a file for another department, for another deployment, not a binding file at all
    assert f"binds a key of department '{OTHER_USCC}', not of {USCC}" in home.error(
        "issuer", "add-sm2-key", "--uscc", USCC, "--dev-account", "1", "--binding", str(good)
    )
    assert "made for another deployment" in home.error(*add, variant(chain_id=1))
    assert "not an SM2 binding file" in home.error(*add, variant(kind="co-signing"))
    assert "an SM2 public key is 64 bytes" in home.error(
        *add, variant(sm2_public_key="0x04" + data["sm2_public_key"][2:])
    )
    account = data["account"]
    assert home.client.get_key(account) is None  # nothing was sent

    # an authority of another region: the contract refuses, in plain words
    refused = home.error(*add[:-3], "--dev-account", str(SHANGHAI_AUTHORITY), "--binding", str(good))
    assert "TrustRegistryNotRegionAuthority" in refused
    assert "not an authority of region 110000" in refused
    # an acceptance by another account: the contract refuses
    stranger_acceptance = json.loads(other.read_text())["acceptance"]
    refused = home.error(*add, variant(acceptance=stranger_acceptance))
    assert f"account {account} has not accepted" in refused
    assert home.client.get_key(account) is None
    # the good file binds
    home.run(*add, str(good))
    assert home.show(OTHER_USCC)["sm2_keys"][0]["account"] == account


def _requests_file(path: Path, count: int = 2) -> Path:
    samples = SampleFactory(7)
    rows = []
    for _ in range(count):
        request = samples.business_license()
        fields = {k: v.isoformat() if isinstance(v, dt.date) else v for k, v in request.fields.items()}
        rows.append({"type": "BL", "valid_from": request.valid_from.isoformat(), **fields})
    path.write_text(json.dumps(rows, ensure_ascii=False), encoding="utf-8")
    return path


def test_an_sm2_department_issues_anchors_and_its_licenses_verify_with_the_suite(home: Home, tmp_path: Path):
    """The department's keystore NAME with NAME.sm2.json beside it signs with SM2; the license verifies
    as valid, says its suite and its key's certificate subject; the mistakes are refused."""
    authority = dev_accounts(home.client.w3)[BEIJING_AUTHORITY]
    name = "bj-samr-cert"
    key = Sm2SigningKey.generate()
    cert = tmp_path / "cert.cer"
    cert.write_bytes(self_signed_certificate(key, "海淀区市场监管电子签名"))
    pem = _write_pem(tmp_path / "cert.pem", key)
    home.run("keys", "import-sm2", name, str(pem), "--certificate", str(cert), "--password-env", "PW")
    binding = tmp_path / "binding.json"
    home.run("keys", "sm2-proof", name, "--uscc", THIRD_USCC, "--out", str(binding), "--password-env", "PW")
    home.client.register_issuer(authority, issuer_id_from_uscc(THIRD_USCC), 110000, "北京市海淀区市场监督管理局")
    home.run("issuer", "add-sm2-key", "--uscc", THIRD_USCC, "--binding", str(binding), "--dev-account", "1")
    now = home.client.w3.eth.get_block("latest")["timestamp"]
    home.client.permit_license_type(authority, issuer_id_from_uscc(THIRD_USCC), get_type("BL").type_id, valid_from=now)
    address = json.loads(binding.read_text())["account"]
    home.client.fund(dev_accounts(home.client.w3)[0], address, 10**18)

    requests = _requests_file(tmp_path / "bl.json")
    signing = ("--uscc", THIRD_USCC, "--keystore", name, "--password-env", "PW")
    issued = json.loads(home.run("license", "issue", "--file", str(requests), "--json", *signing).stdout)
    assert len(issued) == 2
    assert "2 licenses anchored in 1 batches" in home.run("license", "anchor", *signing).stdout
    shown = json.loads(home.run("license", "show", issued[0]["license_id"], "--json").stdout)
    assert (shown["suite"], shown["signer"]) == ("sm2", address)
    text = home.run("qr", issued[0]["license_id"]).stdout.strip()
    assert text.startswith("LC2:")  # the SM2 suite code in the compact form
    data = json.loads(home.run("verify", "--text", text, "--json").stdout)
    assert (data["status"], data["suite"], data["signer"]) == ("valid", "sm2", address)
    assert data["certificate_subject"] == "CN=海淀区市场监管电子签名,O=北京市市场监督管理局,C=CN"
    readable = home.run("verify", "--text", text, "--lang", "en").stdout
    assert "signature 国密 SM2, certificate CN=海淀区市场监管电子签名" in readable

    # the account's keystore alone (without its SM2 keystore beside it) may not sign: one suite per key
    alone = home.path / "keys" / "alone.json"
    alone.write_bytes((home.path / "keys" / f"{name}.json").read_bytes())
    refused = home.error(
        "license", "issue", "--file", str(requests), "--uscc", THIRD_USCC, "--keystore", "alone", "--password-env", "PW"
    )
    assert f"account {address} is bound on chain to an SM2 key" in refused
    # an SM2 key that is not the one bound to the account
    refused = home.error(
        "license", "issue", "--file", str(requests), "--uscc", THIRD_USCC, "--keystore", "spare", "--password-env", "PW"
    )
    assert "is not the one bound on chain to account" in refused
    # a wrong password
    assert "the password does not open" in home.error(
        "license",
        "anchor",
        "--uscc",
        THIRD_USCC,
        "--keystore",
        name,
        "--password-env",
        "WRONG",
        env={"WRONG": "wrong pass phrase"},
    )


def test_the_service_signs_for_an_sm2_department_configured_like_any_other(home: Home, tmp_path: Path):
    """`elicense serve --department USCC=NAME:ENV` with NAME.sm2.json beside NAME.json: the issuer API
    signs with SM2 and the verification answers say so; an SM2-bound account without its SM2 key is
    refused before the service listens. (Runs after the issuing test, which bound bj-samr-cert.)"""
    refused = home.run("serve", "--port", "0", "--department", f"{THIRD_USCC}=alone:PW", code=2).stderr
    assert "is bound on chain to an SM2 key" in refused
    assert "Listening on" not in refused
    _, api_key = home.run("apikey", "create", "--uscc", THIRD_USCC).stdout.split()
    env = {
        **os.environ,
        "ELICENSE_HOME": str(home.path),
        "ELICENSE_RPC_URL": home.url,
        "PW": PASSWORD,
        "ELICENSE_CONFIRMATIONS": "1",  # the node mines a block per transaction only
    }
    served = serve_command(
        lambda port: [str(ELICENSE), "serve", "--port", str(port), "--department", f"{THIRD_USCC}=bj-samr-cert:PW"],
        log_dir=tmp_path,
        env=env,
    )
    try:
        auth = {"Authorization": f"Bearer {api_key}"}
        base = f"{served.url}/v1/issuers/{THIRD_USCC}"
        body = json.dumps(SampleFactory(5).business_license().to_dict()).encode()
        issued = _http("POST", f"{base}/licenses", body, auth)
        _http("POST", f"{base}/anchor", b"", auth)
        text = (
            urllib.request.urlopen(
                urllib.request.Request(f"{base}/licenses/{issued['license_id']}/qr?format=text", headers=auth),
                timeout=60,
            )
            .read()
            .decode()
        )
        verify = json.dumps({"qr": text}).encode()
        wait_until(  # the service's mirror follows the chain
            lambda: _http("POST", f"{served.url}/v1/verify", verify, {})["status"] == "valid",
            timeout=60,
            what="the anchored license verifying over HTTP",
        )
        data = _http("POST", f"{served.url}/v1/verify", verify, {})
        assert (data["status"], data["suite"]) == ("valid", "sm2")
        assert data["certificate_subject"] == "CN=海淀区市场监管电子签名,O=北京市市场监督管理局,C=CN"
    finally:
        served.stop()


def test_the_worker_and_the_status_commands_open_the_account_alone(home: Home, tmp_path: Path):
    """The worker, ``license anchor`` and the status commands sign no license: they open the SM2
    department's account keystore only, so they run without the SM2 key's password (here its
    keystore is sealed under another one), while issuing still needs it. (Runs after the issuing
    test, which bound bj-samr-cert.)"""
    keys = home.path / "keys"
    (keys / "anchor-only.json").write_bytes((keys / "bj-samr-cert.json").read_bytes())
    key, certificate = load_sm2_key(keys / "bj-samr-cert.sm2.json", PASSWORD)
    create_sm2_keystore(
        keys / "anchor-only.sm2.json",
        "the SM2 key's own password",
        key=key,
        distinguishing_id=key.distinguishing_id,
        certificate=None if certificate is None else certificate.der,
        scrypt_n=2**14,
    )
    requests = _requests_file(tmp_path / "bl.json")
    signing = ("--uscc", THIRD_USCC, "--keystore", "bj-samr-cert", "--password-env", "PW")
    issued = json.loads(home.run("license", "issue", "--file", str(requests), "--json", *signing).stdout)
    only = ("--uscc", THIRD_USCC, "--keystore", "anchor-only", "--password-env", "PW")
    # issuing opens the SM2 key, which this password does not open
    assert "the password does not open" in home.error("license", "issue", "--file", str(requests), *only)
    worker = home.run("worker", "--department", f"{THIRD_USCC}=anchor-only:PW", "--once")
    assert "2 licenses anchored in 1 batches" in worker.stdout
    home.run("license", "suspend", issued[0]["license_id"], "--reason", "2", *only)
    states = [
        json.loads(
            home.run("verify", "--text", home.run("qr", i["license_id"]).stdout.strip(), "--json", code=None).stdout
        )["status"]
        for i in issued
    ]
    assert states == ["suspended", "valid"]


def _http(method: str, url: str, body: bytes, headers: dict[str, str]) -> dict[str, Any]:
    request = urllib.request.Request(
        url, data=body, method=method, headers={"Content-Type": "application/json", **headers}
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        data: dict[str, Any] = json.loads(response.read())
    return data
