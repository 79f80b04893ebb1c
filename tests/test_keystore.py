"""Encrypted keystores and password sources."""

from __future__ import annotations

import json
import stat

import pytest
from eth_account import Account

from signer import (
    KeystoreError,
    PasswordError,
    PasswordSource,
    WrongPasswordError,
    create_keystore,
    import_keystore,
    keystore_address,
    load_account,
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
