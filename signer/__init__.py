"""Everything that signs or checks a signature, behind a few recipes.

- :class:`LicenseSigner` signs license digests (EIP-712, secp256k1, 64-byte EIP-2098 form);
  :func:`recover_signer` tells which address signed one; :func:`sign_key_acceptance` is a new key's
  consent to serve an issuer.
- :func:`domain_separator` and :func:`keccak256` are the chain's hashing; :class:`MerkleTree` the
  batch trees that anchor many digests in one root.
- Co-signing (docs/joint.md): :class:`CoSigningKey` (BLS12-381) signs a bundle digest;
  :func:`aggregate_signatures` and :func:`verify_co_signatures` make and check the departments'
  joint signature; proofs of possession and the EIP-2537 forms the contracts take.
- The SM2 suite (docs/signatures.md): :class:`Sm2SigningKey` (SM2 with SM3, GM/T 0003) and
  :class:`Sm2LicenseSigner` sign the EIP-712 encoded message of a license; :func:`verify_sm2_license`
  checks one; :func:`check_sm2_public_key` and :func:`check_sm2_signature` check the wire forms; the
  key binding's proof of possession (:func:`sign_sm2_key_acceptance`) and the account's acceptance
  (:func:`sign_sm2_account_acceptance`); :func:`parse_sm2_certificate` reads an X.509 certificate of
  an SM2 key.
- Keystores: scrypt-encrypted key files (secp256k1 signing keys, co-signing keys, SM2 keys) and the
  passwords that open them.

The primitives (``_keccak``, ``_eip712``, ``_secp256k1``, ``_merkle``, ``_bls``, ``_sm2``, ``_x509``)
are private.
"""

from signer._eip712 import domain_separator
from signer._keccak import keccak256
from signer._merkle import MerkleTree, merkle_root, verify_proof
from signer._x509 import MAX_CERTIFICATE_BYTES, Sm2Certificate, parse_sm2_certificate
from signer.cosigning import (
    CoSigningKey,
    aggregate_signatures,
    co_signing_key_id,
    public_key_to_eip2537,
    signature_to_eip2537,
    verify_co_signatures,
    verify_proof_of_possession,
)
from signer.errors import (
    ElicenseError,
    KeystoreError,
    PasswordError,
    SignerError,
    SignerInputError,
    WrongPasswordError,
)
from signer.keystore import (
    CO_SIGNING_KIND,
    DEFAULT_SCRYPT_N,
    SM2_KIND,
    PasswordSource,
    create_co_signing_keystore,
    create_keystore,
    create_sm2_keystore,
    import_keystore,
    import_sm2_keystore,
    keystore_address,
    load_account,
    load_co_signing_key,
    load_sm2_key,
    open_kind_keystore,
    read_kind_keystore,
    seal_kind_keystore,
)
from signer.recipes import LicenseSigner, recover_signer, sign_key_acceptance
from signer.sm2 import (
    DEFAULT_SM2_ID,
    MAX_SM2_ID_BYTES,
    Sm2LicenseSigner,
    Sm2SigningKey,
    check_sm2_public_key,
    check_sm2_signature,
    sign_sm2_account_acceptance,
    sign_sm2_key_acceptance,
    sm2_key_acceptance_message,
    verify_sm2_key_acceptance,
    verify_sm2_license,
    verify_sm2_signature,
)

__all__ = [
    "CO_SIGNING_KIND",
    "DEFAULT_SCRYPT_N",
    "DEFAULT_SM2_ID",
    "MAX_CERTIFICATE_BYTES",
    "MAX_SM2_ID_BYTES",
    "SM2_KIND",
    "CoSigningKey",
    "ElicenseError",
    "KeystoreError",
    "LicenseSigner",
    "MerkleTree",
    "PasswordError",
    "PasswordSource",
    "SignerError",
    "SignerInputError",
    "Sm2Certificate",
    "Sm2LicenseSigner",
    "Sm2SigningKey",
    "WrongPasswordError",
    "aggregate_signatures",
    "check_sm2_public_key",
    "check_sm2_signature",
    "co_signing_key_id",
    "create_co_signing_keystore",
    "create_keystore",
    "create_sm2_keystore",
    "domain_separator",
    "import_keystore",
    "import_sm2_keystore",
    "keccak256",
    "keystore_address",
    "load_account",
    "load_co_signing_key",
    "load_sm2_key",
    "merkle_root",
    "open_kind_keystore",
    "parse_sm2_certificate",
    "public_key_to_eip2537",
    "read_kind_keystore",
    "recover_signer",
    "seal_kind_keystore",
    "sign_key_acceptance",
    "sign_sm2_account_acceptance",
    "sign_sm2_key_acceptance",
    "signature_to_eip2537",
    "sm2_key_acceptance_message",
    "verify_co_signatures",
    "verify_proof",
    "verify_proof_of_possession",
    "verify_sm2_key_acceptance",
    "verify_sm2_license",
    "verify_sm2_signature",
]
