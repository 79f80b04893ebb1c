"""The demo's SM2 department (docs/signatures.md): 北京市海淀区市场监督管理局 signs its licenses with SM2
(国密 SM2 with SM3); its SM2 key, with a self-signed X.509 certificate, is bound on chain to its
anchoring account by 北京市's authority from the department's proof of possession and the account's
acceptance. Its cases: a valid business license (its QR code at most version 15 at level M), the
same license with the company name changed (tampered), and a license its anchoring account signed
with secp256k1 (tampered: an account bound to an SM2 key signs only with it)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from eth_account import Account
from eth_account.signers.local import LocalAccount
from stdnum.cn import uscc

from devkit.certificates import self_signed_certificate
from devkit.samples import SampleFactory
from registry import RegistryClient, SignatureSuite
from registry.chain.sm2 import Sm2KeyRegistration
from registry.document.identifiers import issuer_id_from_uscc
from registry.document.licensetypes import get_type
from registry.issuer.department import Department
from registry.issuer.store import IssuerStore
from signer import LicenseSigner, Sm2LicenseSigner, Sm2SigningKey, sign_sm2_key_acceptance
from verifier.pipeline import Outcome

__all__ = ["SM2_DEPARTMENT_NAME", "SM2_DEPARTMENT_USCC", "Sm2Demo", "add_sm2_cases"]

_CODE = "11110108MB0348127"  # division 110108 (海淀区), in 北京市
SM2_DEPARTMENT_USCC = _CODE + uscc.calc_check_digit(_CODE)
SM2_DEPARTMENT_NAME = "北京市海淀区市场监督管理局"
#: The QR version the SM2 business license must fit at level M (DESIGN.md: version 15 holds 600 characters).
MAX_SM2_QR_VERSION = 15

AddCase = Callable[[str, str, str, str], None]


@dataclass
class Sm2Demo:
    department: Department
    key: Sm2SigningKey
    certificate: bytes
    valid_case: str = "sm2_valid"


def add_sm2_cases(
    client: RegistryClient,
    store: IssuerStore,
    *,
    admin: LocalAccount,
    authority: LocalAccount,
    samples: SampleFactory,
    add: AddCase,
    tamper: Callable[[str], str],
    say: Callable[[str], None],
) -> Sm2Demo:
    """Register the SM2 department, bind its SM2 key to its account, and ``add`` its cases."""
    d = client.deployment
    now = int(client.w3.eth.get_block("latest")["timestamp"])
    issuer_id = issuer_id_from_uscc(SM2_DEPARTMENT_USCC)
    account: LocalAccount = Account.create()
    client.fund(admin, account.address, 10**19)
    client.register_issuer(authority, issuer_id, 110000, SM2_DEPARTMENT_NAME)
    key = Sm2SigningKey.generate()
    certificate = self_signed_certificate(key, "电子证照签名密钥", SM2_DEPARTMENT_NAME, today=samples.today)
    proof = sign_sm2_key_acceptance(
        key, issuer_id=issuer_id, account=account.address, chain_id=d.chain_id, trust_registry=d.trust_registry
    )
    registration = Sm2KeyRegistration(
        public_key=key.public_key, proof=proof, distinguishing_id=key.distinguishing_id, certificate=certificate
    )
    client.add_sm2_key(authority, issuer_id, account, registration, valid_from=now)
    client.permit_license_type(authority, issuer_id, get_type("BL").type_id, valid_from=now)
    signer = Sm2LicenseSigner(key, chain_id=d.chain_id, license_registry=d.license_registry)
    department = Department(
        issuer_uscc=SM2_DEPARTMENT_USCC,
        store=store,
        signer=signer,
        client=client,
        account=account,
        suite=SignatureSuite.SM2,
    )
    say(f"{SM2_DEPARTMENT_NAME} signs with SM2 (国密): its SM2 key is bound to account {account.address}")

    valid = department.issue(samples.business_license())
    # the anchoring account signing by itself with secp256k1, as a thief holding only it would
    plain = LicenseSigner(account, chain_id=d.chain_id, license_registry=d.license_registry)
    thief = Department(issuer_uscc=SM2_DEPARTMENT_USCC, store=store, signer=plain, client=client, account=account)
    forged = thief.issue(samples.business_license())
    department.anchor_pending()
    text = department.presentation(valid.license_id).to_text()
    add(
        "sm2_valid", Outcome.VALID, text, "business license signed with SM2 (国密), certificate registered with the key"
    )
    add("sm2_tampered", Outcome.TAMPERED, tamper(text), "the SM2-signed license with the company name changed")
    add(
        "sm2_wrong_suite",
        Outcome.TAMPERED,
        thief.presentation(forged.license_id).to_text(),
        "signed with secp256k1 by the account bound to the SM2 key (one suite per key)",
    )
    return Sm2Demo(department, key, certificate)
