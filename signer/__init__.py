"""Everything that signs or checks a signature, behind a few recipes.

- :class:`LicenseSigner` signs license digests (EIP-712, secp256k1, 64-byte EIP-2098 form);
  :func:`recover_signer` tells which address signed one; :func:`sign_key_acceptance` is a new key's
  consent to serve an issuer.
- :func:`domain_separator` and :func:`keccak256` are the chain's hashing; :class:`MerkleTree` the
  batch trees that anchor many digests in one root.
- Keystores: scrypt-encrypted key files and the passwords that open them.

The primitives (``_keccak``, ``_eip712``, ``_secp256k1``, ``_merkle``) are private.
"""

from signer._eip712 import domain_separator
from signer._keccak import keccak256
from signer._merkle import MerkleTree, merkle_root, verify_proof
from signer.errors import (
    ElicenseError,
    KeystoreError,
    PasswordError,
    SignerError,
    SignerInputError,
    WrongPasswordError,
)
from signer.keystore import (
    DEFAULT_SCRYPT_N,
    PasswordSource,
    create_keystore,
    import_keystore,
    keystore_address,
    load_account,
)
from signer.recipes import LicenseSigner, recover_signer, sign_key_acceptance

__all__ = [
    "DEFAULT_SCRYPT_N",
    "ElicenseError",
    "KeystoreError",
    "LicenseSigner",
    "MerkleTree",
    "PasswordError",
    "PasswordSource",
    "SignerError",
    "SignerInputError",
    "WrongPasswordError",
    "create_keystore",
    "domain_separator",
    "import_keystore",
    "keccak256",
    "keystore_address",
    "load_account",
    "merkle_root",
    "recover_signer",
    "sign_key_acceptance",
    "verify_proof",
]
