"""Everything that signs or checks a signature, behind a few recipes.

- :class:`LicenseSigner` signs license digests (EIP-712, secp256k1, 64-byte EIP-2098 form);
  :func:`recover_signer` tells which address signed one; :func:`sign_key_acceptance` is a new key's
  consent to serve an issuer.
- :func:`domain_separator` and :func:`keccak256` are the chain's hashing; :class:`MerkleTree` the
  batch trees that anchor many digests in one root.
- Co-signing (docs/joint.md): :class:`CoSigningKey` (BLS12-381) signs a bundle digest;
  :func:`aggregate_signatures` and :func:`verify_co_signatures` make and check the departments'
  joint signature; proofs of possession and the EIP-2537 forms the contracts take.
- Keystores: scrypt-encrypted key files (secp256k1 signing keys and co-signing keys) and the
  passwords that open them.

The primitives (``_keccak``, ``_eip712``, ``_secp256k1``, ``_merkle``, ``_bls``) are private.
"""

from signer._eip712 import domain_separator
from signer._keccak import keccak256
from signer._merkle import MerkleTree, merkle_root, verify_proof
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
    PasswordSource,
    create_co_signing_keystore,
    create_keystore,
    import_keystore,
    keystore_address,
    load_account,
    load_co_signing_key,
)
from signer.recipes import LicenseSigner, recover_signer, sign_key_acceptance

__all__ = [
    "CO_SIGNING_KIND",
    "DEFAULT_SCRYPT_N",
    "CoSigningKey",
    "ElicenseError",
    "KeystoreError",
    "LicenseSigner",
    "MerkleTree",
    "PasswordError",
    "PasswordSource",
    "SignerError",
    "SignerInputError",
    "WrongPasswordError",
    "aggregate_signatures",
    "co_signing_key_id",
    "create_co_signing_keystore",
    "create_keystore",
    "domain_separator",
    "import_keystore",
    "keccak256",
    "keystore_address",
    "load_account",
    "load_co_signing_key",
    "merkle_root",
    "public_key_to_eip2537",
    "recover_signer",
    "sign_key_acceptance",
    "signature_to_eip2537",
    "verify_co_signatures",
    "verify_proof",
    "verify_proof_of_possession",
]
