"""Joint applications over HTTP against the real app on the in-process chain: five departments of
上海市 open, fill, co-sign (with keys the service holds, or importing a co-signature made elsewhere)
and anchor an application, each with its own API key; the bundle's QR code verifies through every
verify endpoint. The refusals come first: other departments' keys, no key, departments outside the
application, a non-lead anchoring, hostile bodies."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from pydantic import TypeAdapter
from stdnum.iso7064 import mod_37_36

from api.cosigning import co_signing_specs, load_co_signing_keys
from api.joint_models import BundleQrText, JointApplicationView
from api.main import create_app
from api.models import VerifyBatchResponse, VerifyResult
from api.services import Services
from api.settings import Settings
from devkit.joint import SHANGHAI, JointWorld, add_departments, credit_code, seven_requests
from registry import RegistryClient, connect, dev_accounts
from registry.document.identifiers import FieldValueError
from registry.errors import ConfigurationError
from registry.issuer.store import IssuerStore
from signer import CoSigningKey, PasswordError, WrongPasswordError, create_co_signing_keystore
from verifier.mirror import Mirror

APPLICANT = credit_code("91310115MA1H8Y2K3")
NAME = "上海某某国际贸易有限公司"
#: The department whose co-signing key the service does not hold: it imports co-signatures.
IMPORTER = "sh-customs"


@dataclass
class Setup:
    api: TestClient
    services: Services
    world: JointWorld
    keys: dict[str, str]  # API key by spec key
    codes: dict[str, str]  # credit code by spec key
    licenses: dict[str, str]  # license id by type code
    outsider_key: str  # an API key of a department in no application


def _types(key: str) -> tuple[str, ...]:
    return next(s.types for s in SHANGHAI if s.key == key)


def _issue_seven(world: JointWorld) -> dict[str, str]:
    by_type = {}
    for code, request in seven_requests(APPLICANT, NAME, dt.date.today()).items():
        department = next(d for k, d in world.departments.items() if code in _types(k))
        by_type[code] = department.issue(request).license_id
    for department in world.departments.values():
        department.anchor_pending()
    return by_type


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Setup]:
    home: Path = tmp_path_factory.mktemp("api-joint")
    w3 = connect(None)
    admin, authority = dev_accounts(w3)[:2]
    client, _ = RegistryClient.deploy(w3, admin)
    client.add_region(admin, 310000, "上海市")
    client.add_region_authority(admin, 310000, authority.address)
    store = IssuerStore.at(home / "store.db")
    world = add_departments(client, store, admin=admin, authorities={310000: authority})
    licenses = _issue_seven(world)
    deployment = client.deployment
    codes = {k: d.issuer_uscc for k, d in world.departments.items()}
    services = Services(
        Settings(home=home, max_body_bytes=2_000_000, batch_workers=2),
        deployment=deployment,
        client=client,
        mirror=Mirror.at(home / "mirror.db", deployment, confirmations=1),
        store=store,
        departments={d.issuer_uscc: d for d in world.departments.values()},
        co_signing_keys={codes[k]: key for k, key in world.co_signing_keys.items() if k != IMPORTER},
    )
    keys = {k: services.api_keys.create(code, k)[1] for k, code in codes.items()}
    outsider_key = services.api_keys.create(credit_code("11310115MB0A12345"), "outsider")[1]
    with TestClient(create_app(services)) as api:
        yield Setup(api, services, world, keys, codes, licenses, outsider_key)


def _auth(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def _base(s: Setup, who: str) -> str:
    return f"/v1/issuers/{s.codes[who]}/joint-applications"


def _open(s: Setup, lead: str = "sh-samr", **extra: object) -> dict:
    body = {"applicant_uscc": APPLICANT.lower(), "applicant_name": NAME, **extra}
    response = s.api.post(_base(s, lead), json=body, headers=_auth(s.keys[lead]))
    assert response.status_code == 201, response.text
    return response.json()


def _add(s: Setup, who: str, app_id: str, *types: str) -> dict:
    response = s.api.post(
        f"{_base(s, who)}/{app_id}/members",
        json={"license_ids": [s.licenses[t] for t in types]},
        headers=_auth(s.keys[who]),
    )
    assert response.status_code == 200, response.text
    return response.json()


def _fill(s: Setup, app_id: str) -> dict:
    for key in ("sh-commerce", "sh-samr", "sh-tax", "sh-customs", "sh-police"):
        data = _add(s, key, app_id, *_types(key))
    return data


def _cosign(s: Setup, who: str, app_id: str, body: dict | None = None):  # type: ignore[no-untyped-def]
    return s.api.post(f"{_base(s, who)}/{app_id}/cosignatures", json=body, headers=_auth(s.keys[who]))


def _import_body(key: CoSigningKey, digest_hex: str) -> dict[str, str]:
    signature = key.sign(bytes.fromhex(digest_hex[2:]))
    return {"public_key": "0x" + key.public_key.hex(), "signature": signature.hex()}


def _cosign_all(s: Setup, app_id: str) -> dict:
    data = {}
    for key in s.codes:
        if key == IMPORTER:
            digest = s.api.get(f"{_base(s, key)}/{app_id}", headers=_auth(s.keys[key])).json()["bundle_digest"]
            response = _cosign(s, key, app_id, _import_body(s.world.co_signing_keys[key], digest))
        else:
            response = _cosign(s, key, app_id)
        assert response.status_code == 200, response.text
        data = response.json()
    return data


def _checked(response, model: object) -> dict:  # type: ignore[no-untyped-def]
    """The response's JSON, after checking it against the model the OpenAPI document gives."""
    assert response.status_code in (200, 201), response.text
    data = response.json()
    TypeAdapter(model).validate_python(data)
    return data


def _problem(response, status: int, *words: str) -> dict:  # type: ignore[no-untyped-def]
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["status"] == status
    for word in words:
        assert word in body["detail"], body
    return body


# -- refusals -------------------------------------------------------------------------------------


def test_keys_and_departments_are_checked_before_anything_runs(setup: Setup):
    s = setup
    app_id = _open(s)["application_id"]
    _add(s, "sh-samr", app_id, "BL")
    path = f"{_base(s, 'sh-samr')}/{app_id}"
    # no key, an unknown key
    _problem(s.api.get(path), 401, "API key")
    _problem(s.api.get(path, headers=_auth("elk_0000_forged")), 401, "unknown or revoked")
    _problem(s.api.post(_base(s, "sh-samr"), json={"applicant_uscc": APPLICANT, "applicant_name": NAME}), 401)
    # another department's key on the lead's path
    _problem(s.api.get(path, headers=_auth(s.keys["sh-tax"])), 403, "cannot act for")
    _problem(s.api.post(f"{path}/anchor", headers=_auth(s.keys["sh-tax"])), 403, "cannot act for")
    # a department not in the application: cannot read or co-sign (it joins by adding its own licenses)
    tax = f"{_base(s, 'sh-tax')}/{app_id}"
    _problem(s.api.get(tax, headers=_auth(s.keys["sh-tax"])), 403, "not a department")
    _problem(_cosign(s, "sh-tax", app_id), 403, "not a department")
    imported = _import_body(s.world.co_signing_keys["sh-tax"], "0x" + "00" * 32)
    _problem(_cosign(s, "sh-tax", app_id, imported), 403, "not a department")
    _problem(s.api.get(f"{tax}/qr", headers=_auth(s.keys["sh-tax"])), 403)
    outsider = credit_code("11310115MB0A12345")
    _problem(
        s.api.get(f"/v1/issuers/{outsider}/joint-applications/{app_id}", headers=_auth(s.outsider_key)),
        403,
        "not a department",
    )
    # a co-approver is a department: it reads and co-signs, but neither adds others' licenses nor anchors
    app2 = _open(s, co_approvers=[s.codes["sh-police"]])["application_id"]
    _add(s, "sh-samr", app2, "BL")
    shown = s.api.get(f"{_base(s, 'sh-police')}/{app2}", headers=_auth(s.keys["sh-police"]))
    assert shown.status_code == 200
    assert [d["uscc"] for d in shown.json()["departments"]] == sorted(
        [s.codes["sh-samr"], s.codes["sh-police"]], key=lambda c: c.encode()
    )
    _problem(
        s.api.post(
            f"{_base(s, 'sh-police')}/{app2}/members",
            json={"license_ids": [s.licenses["BL"]]},
            headers=_auth(s.keys["sh-police"]),
        ),
        403,
        "only its own licenses",
    )
    _problem(s.api.post(f"{_base(s, 'sh-police')}/{app2}/anchor", headers=_auth(s.keys["sh-police"])), 403, "lead")
    # an application that does not exist (valid id, another serial) and a broken id
    missing = app_id[:20] + "99999999"
    missing += mod_37_36.calc_check_digit(missing)
    _problem(s.api.get(f"{_base(s, 'sh-samr')}/{missing}", headers=_auth(s.keys["sh-samr"])), 404, "no joint")
    broken = app_id[:-1] + ("0" if app_id[-1] != "0" else "1")
    _problem(s.api.get(f"{_base(s, 'sh-samr')}/{broken}", headers=_auth(s.keys["sh-samr"])), 422, "check character")


def test_hostile_bodies_are_refused_with_what_was_expected(setup: Setup):
    s = setup
    app_id = _open(s)["application_id"]
    base = f"{_base(s, 'sh-samr')}/{app_id}"
    auth = _auth(s.keys["sh-samr"])
    # license ids: unknown (well formed), malformed, too many, empty
    unknown = s.licenses["BL"][:20] + "9999999900"
    unknown += mod_37_36.calc_check_digit(unknown)
    _problem(s.api.post(f"{base}/members", json={"license_ids": [unknown]}, headers=auth), 422, "no license")
    _problem(s.api.post(f"{base}/members", json={"license_ids": ["BL" + "x" * 29]}, headers=auth), 422)
    _problem(s.api.post(f"{base}/members", json={"license_ids": [s.licenses["BL"]] * 65}, headers=auth), 422)
    _problem(s.api.post(f"{base}/members", json={"license_ids": []}, headers=auth), 422)
    _problem(s.api.post(f"{base}/members", json={"license_ids": [s.licenses["BL"]], "x": 1}, headers=auth), 422)
    # nothing was added by any of them
    assert s.api.get(base, headers=auth).json()["members"] == []
    # co-signatures: wrong hex, wrong lengths, a point that is not one, a signature of something else
    _add(s, "sh-samr", app_id, "BL")
    key = s.world.co_signing_keys["sh-samr"]
    good = _import_body(key, s.api.get(base, headers=auth).json()["bundle_digest"])
    for bad in (
        {**good, "public_key": "zz" + good["public_key"][4:]},
        {**good, "signature": good["signature"][:-2]},
        {"public_key": good["public_key"]},
        {**good, "extra": "1"},
    ):
        _problem(_cosign(s, "sh-samr", app_id, bad), 422)
    not_a_point = {**good, "public_key": "0x" + "ff" * 48}
    _problem(_cosign(s, "sh-samr", app_id, not_a_point), 422)
    other = _import_body(key, "0x" + "11" * 32)
    _problem(_cosign(s, "sh-samr", app_id, other), 422, "does not verify")
    # a key that verifies but is not the department's on chain: a fresh one, or another department's
    rogue = CoSigningKey.generate()
    _problem(
        _cosign(s, "sh-samr", app_id, _import_body(rogue, good_digest(s, base, auth))), 422, "not a co-signing key"
    )
    tax_key = s.world.co_signing_keys["sh-tax"]
    stolen = _import_body(tax_key, good_digest(s, base, auth))
    _problem(_cosign(s, "sh-samr", app_id, stolen), 422, "not a co-signing key")
    assert not s.api.get(base, headers=auth).json()["departments"][0]["cosigned"]
    # applicant and co-approvers
    for body in (
        {"applicant_uscc": APPLICANT[:-1] + ("0" if APPLICANT[-1] != "0" else "1"), "applicant_name": NAME},
        {"applicant_uscc": APPLICANT, "applicant_name": ""},
        {"applicant_uscc": APPLICANT, "applicant_name": "x" * 101},
        {"applicant_uscc": APPLICANT, "applicant_name": NAME, "co_approvers": ["not a code"]},
        {"applicant_uscc": APPLICANT, "applicant_name": NAME, "co_approvers": [APPLICANT] * 16},
    ):
        _problem(s.api.post(_base(s, "sh-samr"), json=body, headers=auth), 422)
    # oversized body: refused before it is read
    huge = {"applicant_uscc": APPLICANT, "applicant_name": NAME, "pad": "x" * 2_100_000}
    _problem(s.api.post(_base(s, "sh-samr"), json=huge, headers=auth), 413)
    # the service holds no co-signing key of the importer: it must send a co-signature
    app2 = _open(s, co_approvers=[s.codes[IMPORTER]])["application_id"]
    _add(s, "sh-samr", app2, "BL")
    _problem(_cosign(s, IMPORTER, app2), 404, "holds no co-signing key")


def good_digest(s: Setup, base: str, auth: dict[str, str]) -> str:
    return str(s.api.get(base, headers=auth).json()["bundle_digest"])


# -- the flow -------------------------------------------------------------------------------------


def test_open_fill_cosign_anchor_and_verify_the_bundle(setup: Setup):
    s = setup
    lead = _auth(s.keys["sh-samr"])
    replayed_key = {**lead, "Idempotency-Key": "open-1"}
    body = {"applicant_uscc": APPLICANT, "applicant_name": NAME}
    first = s.api.post(_base(s, "sh-samr"), json=body, headers=replayed_key)
    again = s.api.post(_base(s, "sh-samr"), json=body, headers=replayed_key)
    assert first.status_code == again.status_code == 201
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert again.json()["application_id"] == first.json()["application_id"]
    app_id = first.json()["application_id"]
    assert first.json()["state"] == "open"
    assert first.json()["applicant"] == {"uscc": APPLICANT, "name": NAME}
    assert [d["uscc"] for d in first.json()["departments"]] == [s.codes["sh-samr"]]

    # the lead co-signs early: adding members makes its co-signature stale
    _add(s, "sh-samr", app_id, "BL")
    assert _cosign(s, "sh-samr", app_id).status_code == 200
    data = _fill(s, app_id)
    assert len(data["members"]) == 7
    assert len(data["departments"]) == 5
    samr = next(d for d in data["departments"] if d["uscc"] == s.codes["sh-samr"])
    assert samr["stale"]
    assert not samr["cosigned"]
    assert samr["lead"]
    assert set(data["missing_cosignatures"]) == set(s.codes.values())
    assert {m["license_id"] for m in data["members"]} == set(s.licenses.values())
    assert all(m["anchored"] for m in data["members"])

    # anchoring before every department co-signed, or by a department that is not the lead
    _problem(s.api.post(f"{_base(s, 'sh-samr')}/{app_id}/anchor", headers=lead), 409, "lacks the co-signature")
    data = _cosign_all(s, app_id)
    JointApplicationView.model_validate(data)
    assert all(d["cosigned"] and not d["stale"] for d in data["departments"])
    assert data["missing_cosignatures"] == []
    importer = next(d for d in data["departments"] if d["uscc"] == s.codes[IMPORTER])
    assert importer["service_holds_key"] is False
    assert importer["key_id"] == "0x" + s.world.co_signing_keys[IMPORTER].key_id.hex()
    tax = _auth(s.keys["sh-tax"])
    _problem(s.api.post(f"{_base(s, 'sh-tax')}/{app_id}/anchor", headers=tax), 403, "only the lead")

    anchored = s.api.post(f"{_base(s, 'sh-samr')}/{app_id}/anchor", headers={**lead, "Idempotency-Key": "a-1"})
    assert anchored.status_code == 200, anchored.text
    data = _checked(anchored, JointApplicationView)
    assert {d["uscc"]: d["name"] for d in data["departments"]} == {s.uscc: s.name for s in SHANGHAI}
    assert data["state"] == "anchored"
    assert data["anchor"]["block_number"] > 0
    assert data["anchor"]["tx_hash"].startswith("0x")
    twice = s.api.post(f"{_base(s, 'sh-samr')}/{app_id}/anchor", headers=lead)
    assert twice.json()["anchor"] == data["anchor"]  # nothing anchored twice
    # the anchored application takes no member nor co-signature
    _problem(
        s.api.post(f"{_base(s, 'sh-samr')}/{app_id}/members", json={"license_ids": [s.licenses["OC"]]}, headers=lead),
        409,
    )
    _problem(_cosign(s, "sh-tax", app_id), 409)

    # any department reads it and its QR code
    shown = s.api.get(f"{_base(s, 'sh-police')}/{app_id}", headers=_auth(s.keys["sh-police"]))
    assert shown.status_code == 200
    assert shown.json()["state"] == "anchored"
    qr = s.api.get(f"{_base(s, 'sh-tax')}/{app_id}/qr", headers=tax)
    assert qr.status_code == 200
    text = _checked(qr, BundleQrText)["qr"]
    assert text.startswith("LB1:")
    assert qr.json()["characters"] == len(text)
    png = s.api.get(f"{_base(s, 'sh-tax')}/{app_id}/qr?format=png", headers=tax)
    assert png.headers["content-type"] == "image/png"
    assert png.content.startswith(b"\x89PNG")

    # the verify endpoints answer the bundle
    result = _checked(s.api.post("/v1/verify", json={"qr": text}), VerifyResult)
    assert (result["kind"], result["status"]) == ("bundle", "valid"), result
    assert result["applicant"] == {"uscc": APPLICANT, "name": NAME}
    assert result["all_cosigned"]
    assert len(result["members"]) == 7
    assert result["bundle_digest"] == data["bundle_digest"]
    image = s.api.post("/v1/verify/image", files={"image": ("qr.png", png.content, "image/png")}).json()
    assert image["kind"] == "bundle"
    assert image["status"] == "valid"
    licence_text = s.world.departments["sh-samr"].presentation(s.licenses["BL"]).to_text()
    batch = _checked(
        s.api.post("/v1/verify/batch", json={"qrs": [text, licence_text, "LB1:%%%", text[:-8]]}), VerifyBatchResponse
    )
    assert [(r["kind"], r["status"]) for r in batch["results"]] == [
        ("bundle", "valid"),
        ("license", "valid"),
        ("bundle", "malformed"),
        ("bundle", "malformed"),
    ]

    # a member revoked later shows revoked inside the bundle
    revoked = s.api.post(
        f"/v1/issuers/{s.codes['sh-police']}/licenses/{s.licenses['SE']}/status",
        json={"action": "revoke", "reason": 3},
        headers=_auth(s.keys["sh-police"]),
    )
    assert revoked.status_code == 200, revoked.text
    result = _checked(s.api.post("/v1/verify", json={"qr": text}), VerifyResult)
    assert result["status"] == "member_not_valid"
    statuses = {m["license_id"]: m["status"] for m in result["members"]}
    assert statuses.pop(s.licenses["SE"]) == "revoked"
    assert set(statuses.values()) == {"valid"}
    shown = s.api.get(f"{_base(s, 'sh-samr')}/{app_id}", headers=lead).json()
    assert next(m for m in shown["members"] if m["license_id"] == s.licenses["SE"])["status"] == "revoked"


def test_a_lead_without_licenses_of_its_own_co_signs_the_others_bundle(setup: Setup):
    """Members come from other departments only (or a department adds before the lead does): the
    lead is a department of the bundle all the same, and the bundle verifies."""
    s = setup
    app_id = _open(s)["application_id"]
    data = _add(s, "sh-tax", app_id, "TR")
    assert [d["uscc"] for d in data["departments"]] == sorted(
        [s.codes["sh-samr"], s.codes["sh-tax"]], key=lambda c: c.encode()
    )
    for who in ("sh-tax", "sh-samr"):
        assert _cosign(s, who, app_id).status_code == 200
    lead = _auth(s.keys["sh-samr"])
    anchored = s.api.post(f"{_base(s, 'sh-samr')}/{app_id}/anchor", headers=lead)
    assert anchored.json()["state"] == "anchored", anchored.text
    text = s.api.get(f"{_base(s, 'sh-samr')}/{app_id}/qr", headers=lead).json()["qr"]
    result = s.api.post("/v1/verify", json={"qr": text}).json()
    assert result["status"] == "valid", result
    assert {d["uscc"] for d in result["departments"]} == {s.codes["sh-samr"], s.codes["sh-tax"]}


def test_bundle_texts_in_a_large_batch_are_answered_by_the_worker_processes(setup: Setup):
    s = setup
    app_id = _open(s)["application_id"]
    _add(s, "sh-samr", app_id, "BL", "OC")
    assert _cosign(s, "sh-samr", app_id).status_code == 200
    lead = _auth(s.keys["sh-samr"])
    assert s.api.post(f"{_base(s, 'sh-samr')}/{app_id}/anchor", headers=lead).status_code == 200
    text = s.api.get(f"{_base(s, 'sh-samr')}/{app_id}/qr", headers=lead).json()["qr"]
    # a lower-case prefix is a bundle's (kind) but not readable: QR alphanumeric mode is upper case
    hostile = ["LB1:" + "A" * 1500, "lb1:" + text[4:], text[:200], "LB1:" + text[4:-3] + "$$$", "LB1:"]
    licence_text = s.world.departments["sh-samr"].presentation(s.licenses["BL"]).to_text()
    texts = [text, licence_text, *hostile] * 300  # 2,100: verified in the worker processes
    s.services.settings.max_batch = len(texts)
    response = s.api.post("/v1/verify/batch", json={"qrs": texts})
    assert response.status_code == 200
    results = response.json()["results"]
    assert len(results) == len(texts)
    expected = [("bundle", "valid"), ("license", "valid")] + [("bundle", "malformed")] * len(hostile)
    assert [(r["kind"], r["status"]) for r in results] == expected * 300
    assert s.services.workers._pool is not None  # they did run in worker processes


# -- the service's co-signing keys ----------------------------------------------------------------


def test_co_signing_keys_are_read_from_keystores_the_settings_name(
    setup: Setup, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    s = setup
    (tmp_path / "keys").mkdir()
    samr, tax = s.codes["sh-samr"], s.codes["sh-tax"]
    by_name = create_co_signing_keystore(tmp_path / "keys" / "samr-co.json", "password-one", scrypt_n=2**14)
    by_path = create_co_signing_keystore(tmp_path / "tax.json", "password-two", scrypt_n=2**14)
    (tmp_path / "pw").write_text("password-two\n")
    monkeypatch.setenv("SAMR_CO_PASSWORD", "password-one")
    setting = f" {samr}=samr-co:SAMR_CO_PASSWORD , {tax.lower()}={tmp_path / 'tax.json'}:@{tmp_path / 'pw'},"
    keys = load_co_signing_keys(co_signing_specs(setting), keys_dir=tmp_path / "keys")
    assert {code: key.public_key for code, key in keys.items()} == {
        samr: by_name.public_key,
        tax: by_path.public_key,
    }
    services = Services(
        Settings(home=tmp_path, co_signing_keys=setting),
        deployment=s.services.deployment,
        client=None,
        mirror=s.services.mirror,
        store=s.services.store,
        follow=False,
    )
    assert services.co_signing_keys[samr].public_key == by_name.public_key
    services.stop()
    # what a wrong setting says
    with pytest.raises(ConfigurationError, match="USCC=KEYSTORE"):
        load_co_signing_keys(["samr-co"], keys_dir=tmp_path / "keys")
    with pytest.raises(ConfigurationError, match="two co-signing keys"):
        load_co_signing_keys(co_signing_specs(f"{samr}=samr-co:SAMR_CO_PASSWORD,{samr}=x"), keys_dir=tmp_path / "keys")
    with pytest.raises(FieldValueError):
        load_co_signing_keys(["91310115MA1H8Y2K30=samr-co"], keys_dir=tmp_path / "keys")
    monkeypatch.setenv("SAMR_CO_PASSWORD", "wrong-password")
    with pytest.raises(WrongPasswordError):
        load_co_signing_keys([f"{samr}=samr-co:SAMR_CO_PASSWORD"], keys_dir=tmp_path / "keys")
    monkeypatch.delenv("SAMR_CO_PASSWORD")
    with pytest.raises(PasswordError, match="SAMR_CO_PASSWORD"):
        load_co_signing_keys([f"{samr}=samr-co:SAMR_CO_PASSWORD"], keys_dir=tmp_path / "keys")
