"""Encrypted keystores and password sources."""

from __future__ import annotations

import json
import stat

import pytest
from eth_account import Account

from devkit.certificates import self_signed_certificate
from signer import (
    SM2_KIND,
    KeystoreError,
    PasswordError,
    PasswordSource,
    Sm2SigningKey,
    WrongPasswordError,
    create_co_signing_keystore,
    create_keystore,
    create_sm2_keystore,
    import_keystore,
    import_sm2_keystore,
    keystore_address,
    load_account,
    load_co_signing_key,
    load_sm2_key,
)

FAST = 2**14  # the minimum scrypt cost, to keep tests quick
PASSWORD = "correct horse battery"


def test_create_and_load(tmp_path):
    path = tmp_path / "keys" / "issuer.json"
    address = create_keystore(path, PASSWORD, scrypt_n=FAST)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert keystore_address(path) == address
    account = load_account(path, PASSWORD)
    assert account.address == address
    document = json.loads(path.read_text())
    assert document["crypto"]["kdf"] == "scrypt"
    # the private key is nowhere in the file in plain text
    assert account.key.hex() not in path.read_text()


def test_import_keeps_the_key(tmp_path):
    key = Account.create().key
    path = tmp_path / "k.json"
    address = import_keystore(path, key, PASSWORD, scrypt_n=FAST)
    assert load_account(path, PASSWORD).key == key
    assert address == Account.from_key(key).address


def test_wrong_password_and_tampering(tmp_path):
    path = tmp_path / "k.json"
    create_keystore(path, PASSWORD, scrypt_n=FAST)
    with pytest.raises(WrongPasswordError, match="does not open"):
        load_account(path, "not the password")
    document = json.loads(path.read_text())
    ct = document["crypto"]["ciphertext"]
    document["crypto"]["ciphertext"] = ("0" if ct[0] != "0" else "1") + ct[1:]
    path.write_text(json.dumps(document))
    with pytest.raises(WrongPasswordError):
        load_account(path, PASSWORD)


def test_refusals(tmp_path):
    path = tmp_path / "k.json"
    create_keystore(path, PASSWORD, scrypt_n=FAST)
    with pytest.raises(KeystoreError, match="never overwritten"):
        create_keystore(path, PASSWORD, scrypt_n=FAST)
    with pytest.raises(KeystoreError, match="no keystore"):
        load_account(tmp_path / "missing.json", PASSWORD)
    (tmp_path / "junk.json").write_text("not json")
    with pytest.raises(KeystoreError, match="not a JSON keystore"):
        load_account(tmp_path / "junk.json", PASSWORD)
    (tmp_path / "v1.json").write_text(json.dumps({"version": 1}))
    with pytest.raises(KeystoreError, match="version 3"):
        load_account(tmp_path / "v1.json", PASSWORD)
    (tmp_path / "big.json").write_text("x" * 20_000)
    with pytest.raises(KeystoreError, match="at most"):
        load_account(tmp_path / "big.json", PASSWORD)
    with pytest.raises(PasswordError, match="8 to 1024"):
        create_keystore(tmp_path / "short.json", "short", scrypt_n=FAST)
    with pytest.raises(KeystoreError, match="power of two"):
        create_keystore(tmp_path / "weak.json", PASSWORD, scrypt_n=1024)
    with pytest.raises(KeystoreError, match="32 bytes"):
        import_keystore(tmp_path / "bad.json", b"\x01" * 31, PASSWORD, scrypt_n=FAST)


def test_password_sources(tmp_path, monkeypatch):
    monkeypatch.setenv("TEST_KEY_PASSWORD", PASSWORD)
    assert PasswordSource(env="TEST_KEY_PASSWORD").read(purpose="k") == PASSWORD
    monkeypatch.delenv("TEST_KEY_PASSWORD")
    with pytest.raises(PasswordError, match="TEST_KEY_PASSWORD"):
        PasswordSource(env="TEST_KEY_PASSWORD").read(purpose="k")
    file = tmp_path / "pw"
    file.write_text(PASSWORD + "\n")
    assert PasswordSource(file=file).read(purpose="k") == PASSWORD
    with pytest.raises(PasswordError, match="cannot read"):
        PasswordSource(file=tmp_path / "none").read(purpose="k")
    with pytest.raises(PasswordError, match="no password"):
        PasswordSource().read(purpose="k")


# --- SM2 keystores -------------------------------------------------------------------------------


def test_sm2_keystore_round_trip_with_certificate(tmp_path):
    key = Sm2SigningKey.generate("北京市海淀区市场监督管理局".encode())
    certificate = self_signed_certificate(key)
    path = tmp_path / "keys" / "sm2.json"
    assert create_sm2_keystore(path, PASSWORD, key=key, certificate=certificate, scrypt_n=FAST) is key
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    document = json.loads(path.read_text())
    assert document["kind"] == SM2_KIND
    assert document["crypto"]["kdf"] == "scrypt"
    assert "address" not in document
    assert bytes.fromhex(document["publicKey"]) == key.public_key
    assert bytes.fromhex(document["distinguishingId"]) == key.distinguishing_id
    assert key.secret_bytes().hex() not in path.read_text()
    loaded, parsed = load_sm2_key(path, PASSWORD)
    assert loaded.public_key == key.public_key
    assert loaded.distinguishing_id == key.distinguishing_id
    assert parsed is not None
    assert (parsed.der, parsed.public_key) == (certificate, key.public_key)


def test_sm2_keystore_without_certificate_and_new_key(tmp_path):
    key = create_sm2_keystore(tmp_path / "k.json", PASSWORD, distinguishing_id=b"dept-7", scrypt_n=FAST)
    loaded, certificate = load_sm2_key(tmp_path / "k.json", PASSWORD)
    assert certificate is None
    assert (loaded.public_key, loaded.distinguishing_id) == (key.public_key, b"dept-7")


def test_sm2_keystore_import_from_pkcs8(tmp_path):
    key = Sm2SigningKey.generate()
    imported = import_sm2_keystore(
        tmp_path / "k.json", key.to_pkcs8_pem("pem password"), PASSWORD, pem_password="pem password", scrypt_n=FAST
    )
    assert imported.public_key == key.public_key
    assert load_sm2_key(tmp_path / "k.json", PASSWORD)[0].public_key == key.public_key
    with pytest.raises(KeystoreError, match="password does not decrypt"):
        import_sm2_keystore(tmp_path / "k2.json", key.to_pkcs8_pem("pem password"), PASSWORD, pem_password="wrong")
    with pytest.raises(KeystoreError, match="not a PKCS#8"):
        import_sm2_keystore(tmp_path / "k3.json", b"junk", PASSWORD)
    (tmp_path / "key.pem").write_bytes(key.to_pkcs8_pem())
    from_file = import_sm2_keystore(tmp_path / "k4.json", tmp_path / "key.pem", PASSWORD, scrypt_n=FAST)
    assert from_file.public_key == key.public_key
    with pytest.raises(KeystoreError, match="cannot read"):
        import_sm2_keystore(tmp_path / "k5.json", tmp_path / "missing.pem", PASSWORD)
    assert not (tmp_path / "k2.json").exists()
    assert not (tmp_path / "k3.json").exists()


def test_sm2_keystore_refusals(tmp_path):
    key = Sm2SigningKey.generate()
    path = tmp_path / "sm2.json"
    with pytest.raises(KeystoreError, match="another public key"):
        create_sm2_keystore(
            path, PASSWORD, key=key, certificate=self_signed_certificate(Sm2SigningKey.generate()), scrypt_n=FAST
        )
    with pytest.raises(KeystoreError, match="cannot be stored"):
        create_sm2_keystore(path, PASSWORD, key=key, certificate=b"not a certificate", scrypt_n=FAST)
    assert not path.exists()
    create_sm2_keystore(path, PASSWORD, key=key, scrypt_n=FAST)
    with pytest.raises(KeystoreError, match="never overwritten"):
        create_sm2_keystore(path, PASSWORD, key=key, scrypt_n=FAST)
    with pytest.raises(WrongPasswordError, match="does not open"):
        load_sm2_key(path, "not the password")
    # wrong kinds, both ways
    with pytest.raises(KeystoreError, match="holds a 'sm2' key, not a secp256k1"):
        load_account(path, PASSWORD)
    with pytest.raises(KeystoreError, match="holds a 'sm2' key, not a co-signing key"):
        load_co_signing_key(path, PASSWORD)
    create_keystore(tmp_path / "secp.json", PASSWORD, scrypt_n=FAST)
    with pytest.raises(KeystoreError, match="holds a secp256k1 signing key, not an SM2 key"):
        load_sm2_key(tmp_path / "secp.json", PASSWORD)
    create_co_signing_keystore(tmp_path / "bls.json", PASSWORD, scrypt_n=FAST)
    with pytest.raises(KeystoreError, match="bls12-381-g1"):
        load_sm2_key(tmp_path / "bls.json", PASSWORD)


@pytest.mark.parametrize(
    ("member", "value", "error"),
    [
        ("publicKey", "00" * 64, "records public key"),
        ("distinguishingId", "zz", "no valid distinguishingId"),
        ("distinguishingId", "", "1 to 64 bytes"),
        ("certificate", "3003020101", "cannot be stored"),
        ("certificate", 7, "no valid certificate"),
    ],
)
def test_sm2_keystore_altered_members_are_refused(tmp_path, member, value, error):
    path = tmp_path / "sm2.json"
    create_sm2_keystore(path, PASSWORD, scrypt_n=FAST)
    document = json.loads(path.read_text())
    document[member] = value
    path.write_text(json.dumps(document))
    with pytest.raises(KeystoreError, match=error):
        load_sm2_key(path, PASSWORD)
