"""The trust registry's half of the chain client: federation admins, regions and their
authorities, issuers, their signing keys and the license types they may issue."""

from __future__ import annotations

from eth_account.signers.local import LocalAccount
from eth_utils.address import to_checksum_address
from web3 import Web3

from registry.chain import _args as check
from registry.chain._contracts import ContractCalls
from registry.chain.records import OPEN_END, Issuer, KeyWindow, Region, TypePermission
from registry.chain.transport import TxResult
from registry.errors import ConfigurationError
from signer import sign_key_acceptance

__all__ = ["FEDERATION_ADMIN_ROLE", "TrustRegistryCalls"]

FEDERATION_ADMIN_ROLE = Web3.keccak(text="FEDERATION_ADMIN_ROLE")


class TrustRegistryCalls(ContractCalls):
    """Writes and reads of ``TrustRegistry``."""

    # -- writes ------------------------------------------------------------------------------------

    def grant_federation_admin(self, sender: LocalAccount, account: str) -> TxResult:
        """Make ``account`` a federation admin (sender needs ``DEFAULT_ADMIN_ROLE``)."""
        args = (FEDERATION_ADMIN_ROLE, check.address("account", account))
        return self._transact(sender, self.trust.functions.grantRole(*args), 120_000)

    def revoke_federation_admin(self, sender: LocalAccount, account: str) -> TxResult:
        args = (FEDERATION_ADMIN_ROLE, check.address("account", account))
        return self._transact(sender, self.trust.functions.revokeRole(*args), 120_000)

    def add_region(self, sender: LocalAccount, region: int, name: str) -> TxResult:
        name = check.text("name", name)
        gas = 120_000 + 25_000 * check.words(name)
        return self._transact(sender, self.trust.functions.addRegion(check.region(region), name), gas)

    def add_region_authority(self, sender: LocalAccount, region: int, account: str) -> TxResult:
        args = (check.region(region), check.address("account", account))
        return self._transact(sender, self.trust.functions.addRegionAuthority(*args), 120_000)

    def remove_region_authority(self, sender: LocalAccount, region: int, account: str) -> TxResult:
        args = (check.region(region), check.address("account", account))
        return self._transact(sender, self.trust.functions.removeRegionAuthority(*args), 120_000)

    def register_issuer(
        self,
        sender: LocalAccount,
        issuer_id: bytes,
        region: int,
        name: str,
        *,
        profile_hash: bytes = b"\x00" * 32,
        profile_uri: str = "",
    ) -> TxResult:
        args = (
            check.bytes32("issuer_id", issuer_id),
            check.region(region),
            check.text("name", name),
            check.bytes32("profile_hash", profile_hash, nonzero=False),
            check.text("profile_uri", profile_uri),
        )
        gas = 200_000 + 25_000 * (check.words(name) + check.words(profile_uri))
        return self._transact(sender, self.trust.functions.registerIssuer(*args), gas)

    def update_issuer_profile(
        self, sender: LocalAccount, issuer_id: bytes, name: str, *, profile_hash: bytes, profile_uri: str
    ) -> TxResult:
        args = (
            check.bytes32("issuer_id", issuer_id),
            check.text("name", name),
            check.bytes32("profile_hash", profile_hash, nonzero=False),
            check.text("profile_uri", profile_uri),
        )
        gas = 120_000 + 25_000 * (check.words(name) + check.words(profile_uri))
        return self._transact(sender, self.trust.functions.updateIssuerProfile(*args), gas)

    def set_issuer_active(self, sender: LocalAccount, issuer_id: bytes, active: bool) -> TxResult:
        if not isinstance(active, bool):
            raise ConfigurationError("active must be True or False")
        args = (check.bytes32("issuer_id", issuer_id), active)
        return self._transact(sender, self.trust.functions.setIssuerActive(*args), 100_000)

    def key_acceptance(self, account: LocalAccount, issuer_id: bytes) -> bytes:
        """``account``'s signed acceptance of becoming a key of ``issuer_id`` in this deployment."""
        return sign_key_acceptance(
            account,
            issuer_id=issuer_id,
            chain_id=self.deployment.chain_id,
            trust_registry=self.trust.address,
        )

    def key_acceptance_digest(self, issuer_id: bytes, key: str) -> bytes:
        """The EIP-712 digest a key signs to accept ``issuer_id``, as the contract computes it."""
        fn = self.trust.functions.keyAcceptanceDigest(check.bytes32("issuer_id", issuer_id), check.address("key", key))
        return bytes(self._call(fn))

    def _new_key(
        self, name: str, issuer_id: bytes, key: str | LocalAccount, acceptance: bytes | None
    ) -> tuple[str, bytes]:
        """The new key's address and its acceptance: signed here when the key's account is given,
        else the signature the key made elsewhere (``sign_key_acceptance``)."""
        if isinstance(key, LocalAccount):
            if acceptance is not None:
                raise ConfigurationError(f"give {name} as an account (signed here) or an acceptance, not both")
            return key.address, self.key_acceptance(key, issuer_id)
        if acceptance is None:
            raise ConfigurationError(
                f"{name} {key!r} needs its acceptance: pass the key's account, or the signature it made "
                "with sign_key_acceptance (the CLI's `elicense keys accept`)"
            )
        if not isinstance(acceptance, bytes) or not 0 < len(acceptance) <= check.MAX_ACCEPTANCE_BYTES:
            raise ConfigurationError(f"acceptance must be a signature of 1 to {check.MAX_ACCEPTANCE_BYTES} bytes")
        return check.address(name, key), acceptance

    def add_key(
        self,
        sender: LocalAccount,
        issuer_id: bytes,
        key: str | LocalAccount,
        *,
        valid_from: int,
        valid_until: int = OPEN_END,
        acceptance: bytes | None = None,
    ) -> TxResult:
        """Add ``key`` to ``issuer_id`` (region authorities). The key must accept: give its account
        (the acceptance is signed here) or its address and the ``acceptance`` it signed elsewhere."""
        issuer_id = check.bytes32("issuer_id", issuer_id)
        address, signature = self._new_key("key", issuer_id, key, acceptance)
        args = (
            issuer_id,
            address,
            check.uint("valid_from", valid_from, check.UINT64_MAX),
            check.uint("valid_until", valid_until, check.UINT64_MAX),
            signature,
        )
        gas = 160_000 + 16 * len(signature)
        return self._transact(sender, self.trust.functions.addKey(*args), gas)

    def rotate_key(
        self,
        sender: LocalAccount,
        issuer_id: bytes,
        old_key: str,
        new_key: str | LocalAccount,
        *,
        acceptance: bytes | None = None,
    ) -> TxResult:
        """End ``old_key``'s window now and add ``new_key`` from now (an authority, or ``old_key``
        itself). The new key must accept, as for :meth:`add_key`."""
        issuer_id = check.bytes32("issuer_id", issuer_id)
        address, signature = self._new_key("new_key", issuer_id, new_key, acceptance)
        args = (issuer_id, check.address("old_key", old_key), address, signature)
        gas = 300_000 + 16 * len(signature)
        return self._transact(sender, self.trust.functions.rotateKey(*args), gas)

    def retire_key(self, sender: LocalAccount, issuer_id: bytes, key: str) -> TxResult:
        args = (check.bytes32("issuer_id", issuer_id), check.address("key", key))
        return self._transact(sender, self.trust.functions.retireKey(*args), 150_000)

    def declare_key_compromised(
        self, sender: LocalAccount, issuer_id: bytes, key: str, *, compromised_at: int
    ) -> TxResult:
        args = (
            check.bytes32("issuer_id", issuer_id),
            check.address("key", key),
            check.uint("compromised_at", compromised_at, check.UINT64_MAX),
        )
        # the walk over self-rotated successors costs up to about 800,000 gas (64 keys)
        return self._transact(sender, self.trust.functions.declareKeyCompromised(*args), 1_200_000)

    def allow_issuer_region(self, sender: LocalAccount, issuer_id: bytes, region: int) -> TxResult:
        """Allow ``issuer_id`` to be registered in ``region`` although its credit code names a
        division elsewhere (federation admins; ``region=0`` withdraws the exception)."""
        checked = 0 if region == 0 else check.region(region)
        args = (check.bytes32("issuer_id", issuer_id), checked)
        return self._transact(sender, self.trust.functions.allowIssuerRegion(*args), 100_000)

    def permit_license_type(
        self,
        sender: LocalAccount,
        issuer_id: bytes,
        license_type: bytes,
        *,
        valid_from: int,
        valid_until: int = OPEN_END,
    ) -> TxResult:
        args = (
            check.bytes32("issuer_id", issuer_id),
            check.bytes32("license_type", license_type),
            check.uint("valid_from", valid_from, check.UINT64_MAX),
            check.uint("valid_until", valid_until, check.UINT64_MAX),
        )
        return self._transact(sender, self.trust.functions.permitLicenseType(*args), 100_000)

    # -- reads -------------------------------------------------------------------------------------

    def is_federation_admin(self, account: str) -> bool:
        return bool(self._call(self.trust.functions.hasRole(FEDERATION_ADMIN_ROLE, check.address("account", account))))

    def get_region(self, region: int) -> Region | None:
        exists, name = self._call(self.trust.functions.getRegion(check.region(region)))
        return Region(code=region, name=name) if exists else None

    def is_region_authority(self, region: int, account: str) -> bool:
        return bool(
            self._call(self.trust.functions.isRegionAuthority(check.region(region), check.address("account", account)))
        )

    def get_issuer(self, issuer_id: bytes, *, block: int | None = None) -> Issuer | None:
        exists, active, region, profile_hash, name, uri = self._call(
            self.trust.functions.getIssuer(check.bytes32("issuer_id", issuer_id)), block
        )
        if not exists:
            return None
        return Issuer(
            issuer_id=issuer_id, region=region, active=active, name=name, profile_hash=profile_hash, profile_uri=uri
        )

    def get_key(self, key: str) -> KeyWindow | None:
        issuer_id, valid_from, valid_until = self._call(self.trust.functions.getKey(check.address("key", key)))
        if issuer_id == b"\x00" * 32:
            return None
        return KeyWindow(
            key=to_checksum_address(key), issuer_id=issuer_id, valid_from=valid_from, valid_until=valid_until
        )

    def get_rotation(self, key: str) -> tuple[str | None, bool, bool]:
        """(successor, rotated by itself, closed): the key's rotation, if any; a closed key was
        rotated or retired and can be neither again."""
        successor, by_self, closed = self._call(self.trust.functions.getRotation(check.address("key", key)))
        return (None if int(successor, 16) == 0 else to_checksum_address(successor), bool(by_self), bool(closed))

    def is_key_valid(self, issuer_id: bytes, key: str, at: int, *, block: int | None = None) -> bool:
        fn = self.trust.functions.isKeyValid(
            check.bytes32("issuer_id", issuer_id), check.address("key", key), check.uint("at", at, check.UINT64_MAX)
        )
        return bool(self._call(fn, block))

    def may_issue(self, issuer_id: bytes, license_type: bytes, at: int, *, block: int | None = None) -> bool:
        """Whether the issuer is permitted the type at time ``at`` (on the state after ``block``,
        or at the head)."""
        fn = self.trust.functions.mayIssue(
            check.bytes32("issuer_id", issuer_id),
            check.bytes32("license_type", license_type),
            check.uint("at", at, check.UINT64_MAX),
        )
        return bool(self._call(fn, block))

    def get_type_permission(
        self, issuer_id: bytes, license_type: bytes, *, block: int | None = None
    ) -> TypePermission | None:
        valid_from, valid_until = self._call(
            self.trust.functions.getTypePermission(
                check.bytes32("issuer_id", issuer_id), check.bytes32("license_type", license_type)
            ),
            block,
        )
        if valid_from == 0 and valid_until == 0:
            return None
        return TypePermission(
            issuer_id=issuer_id, license_type=license_type, valid_from=valid_from, valid_until=valid_until
        )

    def is_authority_of_issuer(self, issuer_id: bytes, account: str) -> bool:
        fn = self.trust.functions.isAuthorityOfIssuer(
            check.bytes32("issuer_id", issuer_id), check.address("account", account)
        )
        return bool(self._call(fn))

    def get_allowed_region(self, issuer_id: bytes) -> int | None:
        """The region a federation admin allowed ``issuer_id`` in outside its code's division."""
        region = int(self._call(self.trust.functions.getAllowedRegion(check.bytes32("issuer_id", issuer_id))))
        return region or None
