"""SM2 recipes: license signatures under a deployment's domain, the key binding (the SM2 key's proof
of possession and the account's acceptance), and PKCS#8 import and export."""

from __future__ import annotations

import pytest
from eth_account import Account
from eth_account.messages import encode_typed_data
from tongsuopy.crypto import serialization
from tongsuopy.crypto.asymciphers import ec

from signer import (
    LicenseSigner,
    SignerInputError,
    Sm2LicenseSigner,
    Sm2SigningKey,
    _sm2,
    domain_separator,
    recover_signer,
    sign_sm2_account_acceptance,
    sign_sm2_key_acceptance,
    sm2_key_acceptance_message,
    verify_sm2_key_acceptance,
    verify_sm2_license,
)
from signer._eip712 import sm2_key_acceptance_typed_data

REGISTRY = "0x5FbDB2315678afecb367f032d93F642f64180aa3"
OTHER_REGISTRY = "0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512"
TRUST = "0x9fE46736679d2D9a65F0992F2272dE9f3c7fa6e0"
ISSUER = bytes.fromhex("11" * 32)
DIGEST = bytes.fromhex("ab" * 32)
KEY = Sm2SigningKey.generate("北京市海淀区市场监督管理局".encode())
ACCOUNT = Account.create()


def test_license_signature_is_bound_to_domain_digest_key_and_identifier():
    signer = Sm2LicenseSigner(KEY, chain_id=31337, license_registry=REGISTRY)
    assert signer.domain == domain_separator(31337, REGISTRY)
    signature = signer.sign_license(DIGEST)
    assert len(signature) == 64
    assert verify_sm2_license(signer.domain, DIGEST, signature, KEY.public_key, KEY.distinguishing_id)
    assert not verify_sm2_license(signer.domain, DIGEST, signature, KEY.public_key)  # default identifier
    assert not verify_sm2_license(
        domain_separator(31337, OTHER_REGISTRY), DIGEST, signature, KEY.public_key, KEY.distinguishing_id
    )
    assert not verify_sm2_license(
        domain_separator(1, REGISTRY), DIGEST, signature, KEY.public_key, KEY.distinguishing_id
    )
    assert not verify_sm2_license(signer.domain, bytes(32), signature, KEY.public_key, KEY.distinguishing_id)
    other = Sm2SigningKey.generate(KEY.distinguishing_id)
    assert not verify_sm2_license(signer.domain, DIGEST, signature, other.public_key, KEY.distinguishing_id)


def test_an_sm2_signature_is_no_secp256k1_signature_and_back():
    """One suite per key: neither suite's signature passes the other's check."""
    sm2_signature = Sm2LicenseSigner(KEY, chain_id=31337, license_registry=REGISTRY).sign_license(DIGEST)
    domain = domain_separator(31337, REGISTRY)
    assert recover_signer(domain, DIGEST, sm2_signature) != ACCOUNT.address
    secp = LicenseSigner(ACCOUNT, chain_id=31337, license_registry=REGISTRY).sign_license(DIGEST)
    assert not verify_sm2_license(domain, DIGEST, secp, KEY.public_key, KEY.distinguishing_id)


def test_verify_license_returns_false_on_bad_signatures_and_raises_on_caller_bugs():
    domain = domain_separator(31337, REGISTRY)
    for signature in (b"", b"\x00" * 64, b"\xff" * 64, b"\x01" * 65):
        assert verify_sm2_license(domain, DIGEST, signature, KEY.public_key, KEY.distinguishing_id) is False
    with pytest.raises(SignerInputError, match="32 bytes"):
        verify_sm2_license(domain[:31], DIGEST, b"\x01" * 64, KEY.public_key)
    with pytest.raises(SignerInputError, match="32 bytes"):
        verify_sm2_license(domain, DIGEST + b"\x00", b"\x01" * 64, KEY.public_key)
    with pytest.raises(SignerInputError, match="64 bytes"):
        verify_sm2_license(domain, DIGEST, b"\x01" * 64, KEY.public_key[:32])
    with pytest.raises(SignerInputError, match="a license digest is 32 bytes"):
        Sm2LicenseSigner(KEY, chain_id=31337, license_registry=REGISTRY).sign_license(DIGEST[:31])
    with pytest.raises(SignerInputError, match="Sm2SigningKey"):
        Sm2LicenseSigner(ACCOUNT, chain_id=31337, license_registry=REGISTRY)  # type: ignore[arg-type]


def _binding(**changes: object) -> dict[str, object]:
    values: dict[str, object] = {
        "issuer_id": ISSUER,
        "account": ACCOUNT.address,
        "sm2_public_key": KEY.public_key,
        "distinguishing_id": KEY.distinguishing_id,
        "chain_id": 31337,
        "trust_registry": TRUST,
    }
    values.update(changes)
    return values


def test_key_acceptance_message_is_the_eip712_encoding():
    message = sm2_key_acceptance_message(**_binding())  # type: ignore[arg-type]
    assert len(message) == 66
    typed = sm2_key_acceptance_typed_data(
        issuer_id=ISSUER,
        key=ACCOUNT.address,
        sm2_public_key=KEY.public_key,
        distinguishing_id=KEY.distinguishing_id,
        chain_id=31337,
        trust_registry=TRUST,
    )
    encoded = encode_typed_data(full_message=typed)
    assert message == b"\x19" + encoded.version + encoded.header + encoded.body


def test_the_proof_binds_every_field():
    proof = sign_sm2_key_acceptance(
        KEY, issuer_id=ISSUER, account=ACCOUNT.address, chain_id=31337, trust_registry=TRUST
    )
    assert verify_sm2_key_acceptance(proof=proof, **_binding())  # type: ignore[arg-type]
    other_key = Sm2SigningKey.generate(KEY.distinguishing_id)
    for change in (
        {"issuer_id": bytes.fromhex("22" * 32)},
        {"account": Account.create().address},
        {"chain_id": 1},
        {"trust_registry": REGISTRY},
        {"distinguishing_id": b"1234567812345678"},
        {"sm2_public_key": other_key.public_key},  # a rogue issuer claiming another's SM2 key
    ):
        assert not verify_sm2_key_acceptance(proof=proof, **_binding(**change)), change  # type: ignore[arg-type]
    # a license signature is no proof: different messages
    license_signature = Sm2LicenseSigner(KEY, chain_id=31337, license_registry=REGISTRY).sign_license(DIGEST)
    assert not verify_sm2_key_acceptance(proof=license_signature, **_binding())  # type: ignore[arg-type]
    assert not verify_sm2_key_acceptance(proof=b"\x00" * 64, **_binding())  # type: ignore[arg-type]


def test_the_account_accepts_the_same_typed_data():
    signature = sign_sm2_account_acceptance(
        ACCOUNT,
        issuer_id=ISSUER,
        sm2_public_key=KEY.public_key,
        distinguishing_id=KEY.distinguishing_id,
        chain_id=31337,
        trust_registry=TRUST,
    )
    assert len(signature) == 65
    typed = sm2_key_acceptance_typed_data(
        issuer_id=ISSUER,
        key=ACCOUNT.address,
        sm2_public_key=KEY.public_key,
        distinguishing_id=KEY.distinguishing_id,
        chain_id=31337,
        trust_registry=TRUST,
    )
    assert Account.recover_message(encode_typed_data(full_message=typed), signature=signature) == ACCOUNT.address


@pytest.mark.parametrize(
    ("change", "error"),
    [
        ({"issuer_id": bytes(32)}, "issuer_id"),
        ({"issuer_id": b"\x01" * 31}, "issuer_id"),
        ({"account": "0x1234"}, "address"),
        ({"sm2_public_key": b"\x00" * 64}, "curve"),
        ({"distinguishing_id": b""}, "1 to 64 bytes"),
        ({"chain_id": -1}, "chain_id"),
        ({"trust_registry": "not an address"}, "trust_registry"),
    ],
)
def test_binding_inputs_are_checked(change, error):
    with pytest.raises(SignerInputError, match=error):
        sm2_key_acceptance_message(**_binding(**change))  # type: ignore[arg-type]


def test_pkcs8_round_trips_plain_and_encrypted():
    plain = KEY.to_pkcs8_pem()
    assert plain.startswith(b"-----BEGIN PRIVATE KEY-----")
    again = Sm2SigningKey.from_pkcs8_pem(plain, distinguishing_id=KEY.distinguishing_id)
    assert again.public_key == KEY.public_key
    assert again.distinguishing_id == KEY.distinguishing_id
    encrypted = KEY.to_pkcs8_pem("correct horse battery")
    assert encrypted.startswith(b"-----BEGIN ENCRYPTED PRIVATE KEY-----")
    assert KEY.secret_bytes().hex().encode() not in encrypted
    assert Sm2SigningKey.from_pkcs8_pem(encrypted, "correct horse battery").public_key == KEY.public_key


def test_pkcs8_refusals():
    encrypted = KEY.to_pkcs8_pem("correct horse battery")
    with pytest.raises(SignerInputError, match="password does not decrypt"):
        Sm2SigningKey.from_pkcs8_pem(encrypted, "wrong password")
    with pytest.raises(SignerInputError, match="a password is needed"):
        Sm2SigningKey.from_pkcs8_pem(encrypted)
    with pytest.raises(SignerInputError, match="not encrypted"):
        Sm2SigningKey.from_pkcs8_pem(KEY.to_pkcs8_pem(), "a password")
    with pytest.raises(SignerInputError, match="not a PKCS#8 PEM key"):
        Sm2SigningKey.from_pkcs8_pem(b"-----BEGIN EC PRIVATE KEY-----\n...")
    with pytest.raises(SignerInputError, match="at most"):
        Sm2SigningKey.from_pkcs8_pem(b"-----BEGIN PRIVATE KEY-----" + b"A" * 9000)
    with pytest.raises(SignerInputError, match="cannot be read"):
        Sm2SigningKey.from_pkcs8_pem(b"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n")


def test_pkcs8_of_other_algorithms_is_refused():
    from cryptography.hazmat.primitives import serialization as pyca  # noqa: PLC0415
    from cryptography.hazmat.primitives.asymmetric import ec as pyca_ec  # noqa: PLC0415
    from cryptography.hazmat.primitives.asymmetric import ed25519  # noqa: PLC0415

    for other in (pyca_ec.generate_private_key(pyca_ec.SECP256R1()), ed25519.Ed25519PrivateKey.generate()):
        pem = other.private_bytes(pyca.Encoding.PEM, pyca.PrivateFormat.PKCS8, pyca.NoEncryption())
        with pytest.raises(SignerInputError, match="SM2"):
            Sm2SigningKey.from_pkcs8_pem(pem)


def test_keys_made_by_the_backend_directly_are_sm2_keys():
    pem = ec.generate_private_key(ec.SM2()).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    key = Sm2SigningKey.from_pkcs8_pem(pem)
    assert verify_sm2_license(
        domain_separator(31337, REGISTRY),
        DIGEST,
        Sm2LicenseSigner(key, chain_id=31337, license_registry=REGISTRY).sign_license(DIGEST),
        key.public_key,
    )


def test_a_pkcs8_key_with_d_equal_to_n_minus_1_is_refused():
    """d = n - 1 is on the curve but cannot sign (1 + d has no inverse): refused when loaded."""
    pem = ec.derive_private_key(_sm2.N - 1, ec.SM2()).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    with pytest.raises(SignerInputError, match="1 to n - 2"):
        Sm2SigningKey.from_pkcs8_pem(pem)
