"""The chain client: deploys the registry contracts, sends every write, reads every view, decodes
every event. Works the same on the in-process EVM (``connect(None)``) and on any JSON-RPC node.

Writes are signed locally by an ``eth_account`` account (never by the node), with an explicit gas
limit computed per method, after a dry run (``eth_call``) that turns a revert into a domain error
before anything is sent. Each write waits for its receipt (and the configured confirmations) and
returns a :class:`TxResult` with the decoded events.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlparse

import requests
from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_tester.backends.pyevm.main import get_default_account_keys
from eth_utils.address import is_address, to_checksum_address
from web3 import EthereumTesterProvider, HTTPProvider, Web3
from web3.contract import Contract
from web3.exceptions import ProviderConnectionError, TimeExhausted, Web3RPCError
from web3.types import TxParams

from registry._failpoints import failpoint
from registry.chain._reverts import RevertDecoder
from registry.chain.artifacts import load_artifact
from registry.chain.deployment import Deployment
from registry.chain.events import BatchAnchored, EventDecoder, RegistryEvent
from registry.chain.records import (
    OPEN_END,
    Anchor,
    Issuer,
    KeyWindow,
    LicenseStatus,
    Region,
    Status,
    TypePermission,
)
from registry.errors import (
    ChainUnavailableError,
    ConfigurationError,
    ContractRevertError,
    RegistryError,
    TransactionError,
)
from signer import MerkleTree, sign_key_acceptance

__all__ = [
    "FEDERATION_ADMIN_ROLE",
    "MAX_BATCH_SIZE",
    "MAX_STATUS_BATCH",
    "AnchorResult",
    "DeployResult",
    "GasPolicy",
    "RegistryClient",
    "TxResult",
    "connect",
    "dev_accounts",
]

FEDERATION_ADMIN_ROLE = Web3.keccak(text="FEDERATION_ADMIN_ROLE")
DEFAULT_ADMIN_ROLE = b"\x00" * 32
MAX_BATCH_SIZE = 10_000
#: Most licenses per status change: the first write of each status costs about 24,000 gas, and a
#: transaction may use at most 2^24 gas (EIP-7825, in force since the Osaka upgrade).
MAX_STATUS_BATCH = 500
TX_GAS_CAP = 2**24
_MAX_STRING_BYTES = 1024
_MAX_ACCEPTANCE_BYTES = 4096  # an ECDSA signature is 65 bytes; a contract key's (ERC-1271) may be longer
_UINT64_MAX = 2**64 - 1
_UINT16_MAX = 2**16 - 1

HARDHAT_CHAIN_ID = 31337
_HARDHAT_MNEMONIC = "test test test test test test test test test test test junk"


# ------------------------------------------------------------------------------------------------
# Connecting
# ------------------------------------------------------------------------------------------------


def connect(rpc_url: str | None = None, *, timeout: float = 30.0) -> Web3:
    """A ``Web3`` for ``rpc_url`` (``http(s)://...``), or a fresh in-process EVM when ``None``.

    Raises :class:`ChainUnavailableError` when the node does not answer ``eth_chainId``.
    """
    if rpc_url is None:
        return Web3(EthereumTesterProvider())
    if not isinstance(rpc_url, str) or len(rpc_url) > 2048:
        raise ConfigurationError("the RPC URL must be a string of at most 2048 characters")
    parsed = urlparse(rpc_url)
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise ConfigurationError(f"the RPC URL must look like http://host:port, got {rpc_url!r}")
    w3 = Web3(HTTPProvider(rpc_url, request_kwargs={"timeout": timeout}, exception_retry_configuration=None))
    with _rpc_errors(f"the chain node at {rpc_url}"):
        w3.eth.chain_id  # noqa: B018 - probe the node once
    return w3


def dev_accounts(w3: Web3, count: int = 10) -> list[LocalAccount]:
    """Pre-funded accounts of a development chain (the in-process EVM or a Hardhat node).

    These keys are public knowledge: never use them on a shared chain.
    """
    if isinstance(w3.provider, EthereumTesterProvider):
        return [Account.from_key(k.to_bytes()) for k in get_default_account_keys()[:count]]
    chain_id = w3.eth.chain_id
    if chain_id != HARDHAT_CHAIN_ID:
        raise ConfigurationError(
            f"chain {chain_id} is not a development chain; development accounts exist only in process "
            f"and on a Hardhat node (chain id {HARDHAT_CHAIN_ID})"
        )
    Account.enable_unaudited_hdwallet_features()
    return [Account.from_mnemonic(_HARDHAT_MNEMONIC, account_path=f"m/44'/60'/0'/0/{i}") for i in range(count)]


def _is_connection_error(exc: BaseException) -> bool:
    return isinstance(exc, requests.exceptions.ConnectionError | requests.exceptions.Timeout | ProviderConnectionError)


@contextmanager
def _rpc_errors(what: str) -> Iterator[None]:
    try:
        yield
    except RegistryError:
        raise
    except (requests.exceptions.ConnectionError, requests.exceptions.Timeout, ProviderConnectionError) as exc:
        raise ChainUnavailableError(f"{what} is not reachable: {exc}") from exc


# ------------------------------------------------------------------------------------------------
# Results
# ------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TxResult:
    """A mined, successful transaction and the registry events it emitted."""

    tx_hash: bytes
    block_number: int
    block_hash: bytes
    timestamp: int
    gas_used: int
    events: tuple[RegistryEvent, ...]


@dataclass(frozen=True, slots=True)
class AnchorResult:
    """An anchored batch."""

    tx: TxResult
    root: bytes
    issuer_id: bytes
    key: str
    count: int

    @property
    def gas_per_license(self) -> float:
        return self.tx.gas_used / self.count


@dataclass(frozen=True, slots=True)
class DeployResult:
    deployment: Deployment
    trust_registry_gas: int
    license_registry_gas: int


@dataclass(frozen=True, slots=True)
class GasPolicy:
    """How fees are set: EIP-1559 (``max_fee = base_fee * multiplier + priority``) when the chain
    has a base fee, else the node's legacy gas price. ``max_fee_cap`` refuses to pay more."""

    priority_fee: int = 1_000_000_000
    base_fee_multiplier: int = 2
    max_fee_cap: int = 500_000_000_000

    def fees(self, w3: Web3) -> dict[str, int]:
        block = w3.eth.get_block("latest")
        base = block.get("baseFeePerGas")
        if base is None:
            price = int(w3.eth.gas_price)
            if price > self.max_fee_cap:
                raise TransactionError(f"gas price {price} exceeds the cap {self.max_fee_cap}")
            return {"gasPrice": price}
        max_fee = int(base) * self.base_fee_multiplier + self.priority_fee
        if max_fee > self.max_fee_cap:
            raise TransactionError(f"max fee {max_fee} exceeds the cap {self.max_fee_cap}")
        return {"maxFeePerGas": max_fee, "maxPriorityFeePerGas": min(self.priority_fee, max_fee)}


# ------------------------------------------------------------------------------------------------
# Argument checks (before anything touches the chain)
# ------------------------------------------------------------------------------------------------


def _bytes32(name: str, value: object, *, nonzero: bool = True) -> bytes:
    if not isinstance(value, bytes) or len(value) != 32:
        raise ConfigurationError(f"{name} must be 32 bytes, got {value!r}")
    if nonzero and value == b"\x00" * 32:
        raise ConfigurationError(f"{name} must not be zero")
    return value


def _address(name: str, value: object) -> str:
    if not isinstance(value, str) or not is_address(value):
        raise ConfigurationError(f"{name} must be a 0x-prefixed 20-byte address, got {value!r}")
    return to_checksum_address(value)


def _uint(name: str, value: object, maximum: int) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= maximum:
        raise ConfigurationError(f"{name} must be an integer from 0 to {maximum}, got {value!r}")
    return value


def _text(name: str, value: object) -> str:
    if not isinstance(value, str) or len(value.encode("utf-8")) > _MAX_STRING_BYTES:
        raise ConfigurationError(f"{name} must be a string of at most {_MAX_STRING_BYTES} UTF-8 bytes")
    return value


def _digests(name: str, values: Sequence[bytes], *, maximum: int = MAX_BATCH_SIZE) -> list[bytes]:
    if not isinstance(values, Sequence) or isinstance(values, bytes | str):
        raise ConfigurationError(f"{name} must be a list of 32-byte digests")
    if not values:
        raise ConfigurationError(f"{name} must hold at least one digest")
    if len(values) > maximum:
        raise ConfigurationError(f"{name} holds {len(values)} digests; at most {maximum} per transaction")
    return [_bytes32(f"{name}[{i}]", v) for i, v in enumerate(values)]


def _region(value: object) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not 100000 <= value <= 999999:
        raise ConfigurationError(f"region must be a six-digit GB/T 2260 code such as 110000, got {value!r}")
    return value


def _words(text: str) -> int:
    return math.ceil(len(text.encode("utf-8")) / 32)


# ------------------------------------------------------------------------------------------------
# The client
# ------------------------------------------------------------------------------------------------


@dataclass
class _Pending:
    contract: Contract
    function: str
    args: tuple[Any, ...]
    gas: int


class RegistryClient:
    """Typed access to one deployment of the trust and license registries."""

    def __init__(
        self,
        w3: Web3,
        deployment: Deployment,
        *,
        confirmations: int = 1,
        receipt_timeout: float = 120.0,
        gas_policy: GasPolicy | None = None,
        check_chain: bool = True,
    ) -> None:
        if confirmations < 1:
            raise ConfigurationError("confirmations must be at least 1 (the block that includes the transaction)")
        self.w3 = w3
        self.deployment = deployment
        self.confirmations = confirmations
        self.receipt_timeout = receipt_timeout
        self.gas_policy = gas_policy or GasPolicy()
        trust = load_artifact("TrustRegistry")
        lic = load_artifact("LicenseRegistry")
        self.trust = w3.eth.contract(address=to_checksum_address(deployment.trust_registry), abi=trust.abi)
        self.licenses = w3.eth.contract(address=to_checksum_address(deployment.license_registry), abi=lic.abi)
        self.events = EventDecoder([trust.abi, lic.abi])
        self._reverts = RevertDecoder([("TrustRegistry", trust.abi), ("LicenseRegistry", lic.abi)])
        if check_chain:
            self._check_deployment()

    # -- deployment --------------------------------------------------------------------------------

    @classmethod
    def deploy(
        cls,
        w3: Web3,
        deployer: LocalAccount,
        *,
        admin: str | None = None,
        gas_policy: GasPolicy | None = None,
        confirmations: int = 1,
    ) -> tuple[RegistryClient, DeployResult]:
        """Deploy both contracts; ``admin`` (default: the deployer) becomes the first federation admin."""
        policy = gas_policy or GasPolicy()
        admin_address = _address("admin", admin or deployer.address)
        trust_art = load_artifact("TrustRegistry")
        lic_art = load_artifact("LicenseRegistry")
        with _rpc_errors("the chain node"):
            chain_id = int(w3.eth.chain_id)
            trust_factory = w3.eth.contract(abi=trust_art.abi, bytecode=trust_art.bytecode)
            trust_receipt = _send_raw(
                w3,
                deployer,
                trust_factory.constructor(admin_address),
                gas=3_600_000,
                policy=policy,
                chain_id=chain_id,
                confirmations=confirmations,
                timeout=120,
            )
            lic_factory = w3.eth.contract(abi=lic_art.abi, bytecode=lic_art.bytecode)
            lic_receipt = _send_raw(
                w3,
                deployer,
                lic_factory.constructor(trust_receipt["contractAddress"]),
                gas=4_000_000,
                policy=policy,
                chain_id=chain_id,
                confirmations=confirmations,
                timeout=120,
            )
        deployment = Deployment(
            chain_id=chain_id,
            trust_registry=trust_receipt["contractAddress"],
            license_registry=lic_receipt["contractAddress"],
            block_number=int(trust_receipt["blockNumber"]),
            deployer=deployer.address,
        )
        client = cls(w3, deployment, gas_policy=policy, confirmations=confirmations)
        return client, DeployResult(
            deployment=deployment,
            trust_registry_gas=int(trust_receipt["gasUsed"]),
            license_registry_gas=int(lic_receipt["gasUsed"]),
        )

    def _check_deployment(self) -> None:
        with _rpc_errors("the chain node"):
            chain_id = int(self.w3.eth.chain_id)
            if chain_id != self.deployment.chain_id:
                raise ConfigurationError(
                    f"the node is chain {chain_id} but the deployment is on chain {self.deployment.chain_id}"
                )
            for contract, name in ((self.trust, "TrustRegistry"), (self.licenses, "LicenseRegistry")):
                code = bytes(self.w3.eth.get_code(contract.address))
                expected = bytes.fromhex(load_artifact(name).deployed_bytecode[2:])
                if not code:
                    raise ConfigurationError(f"no contract at {contract.address} ({name}) on chain {chain_id}")
                if len(code) != len(expected):
                    raise ConfigurationError(f"the code at {contract.address} is not this version of {name}")
            linked = self.licenses.functions.trustRegistry().call()
            if to_checksum_address(linked) != self.trust.address:
                raise ConfigurationError("the license registry is linked to another trust registry")

    # -- sending -----------------------------------------------------------------------------------

    def _transact(self, sender: LocalAccount, pending: _Pending) -> TxResult:
        fn = getattr(pending.contract.functions, pending.function)(*pending.args)
        with _rpc_errors("the chain node"):
            self._dry_run(sender, fn)
            receipt = _send_raw(
                self.w3,
                sender,
                fn,
                gas=pending.gas,
                policy=self.gas_policy,
                chain_id=self.deployment.chain_id,
                confirmations=self.confirmations,
                timeout=self.receipt_timeout,
                reverts=self._reverts,
            )
            block = self.w3.eth.get_block(receipt["blockNumber"])
        events = tuple(
            e
            for e in (self.events.decode(log) for log in receipt["logs"])
            if e is not None and e.meta.address in (self.trust.address, self.licenses.address)
        )
        return TxResult(
            tx_hash=bytes(receipt["transactionHash"]),
            block_number=int(receipt["blockNumber"]),
            block_hash=bytes(receipt["blockHash"]),
            timestamp=int(block["timestamp"]),
            gas_used=int(receipt["gasUsed"]),
            events=events,
        )

    def _dry_run(self, sender: LocalAccount, fn: Any) -> None:
        try:
            fn.call({"from": sender.address})
        except Exception as exc:
            if _is_connection_error(exc):
                raise
            mapped = self._reverts.from_exception(exc)
            if mapped is not None:
                raise mapped from None
            raise TransactionError(f"dry run of {fn.fn_name} failed: {exc}") from exc

    # -- TrustRegistry writes ----------------------------------------------------------------------

    def grant_federation_admin(self, sender: LocalAccount, account: str) -> TxResult:
        """Make ``account`` a federation admin (sender needs ``DEFAULT_ADMIN_ROLE``)."""
        args = (FEDERATION_ADMIN_ROLE, _address("account", account))
        return self._transact(sender, _Pending(self.trust, "grantRole", args, 120_000))

    def revoke_federation_admin(self, sender: LocalAccount, account: str) -> TxResult:
        args = (FEDERATION_ADMIN_ROLE, _address("account", account))
        return self._transact(sender, _Pending(self.trust, "revokeRole", args, 120_000))

    def add_region(self, sender: LocalAccount, region: int, name: str) -> TxResult:
        name = _text("name", name)
        gas = 120_000 + 25_000 * _words(name)
        return self._transact(sender, _Pending(self.trust, "addRegion", (_region(region), name), gas))

    def add_region_authority(self, sender: LocalAccount, region: int, account: str) -> TxResult:
        args = (_region(region), _address("account", account))
        return self._transact(sender, _Pending(self.trust, "addRegionAuthority", args, 120_000))

    def remove_region_authority(self, sender: LocalAccount, region: int, account: str) -> TxResult:
        args = (_region(region), _address("account", account))
        return self._transact(sender, _Pending(self.trust, "removeRegionAuthority", args, 120_000))

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
            _bytes32("issuer_id", issuer_id),
            _region(region),
            _text("name", name),
            _bytes32("profile_hash", profile_hash, nonzero=False),
            _text("profile_uri", profile_uri),
        )
        gas = 200_000 + 25_000 * (_words(name) + _words(profile_uri))
        return self._transact(sender, _Pending(self.trust, "registerIssuer", args, gas))

    def update_issuer_profile(
        self, sender: LocalAccount, issuer_id: bytes, name: str, *, profile_hash: bytes, profile_uri: str
    ) -> TxResult:
        args = (
            _bytes32("issuer_id", issuer_id),
            _text("name", name),
            _bytes32("profile_hash", profile_hash, nonzero=False),
            _text("profile_uri", profile_uri),
        )
        gas = 120_000 + 25_000 * (_words(name) + _words(profile_uri))
        return self._transact(sender, _Pending(self.trust, "updateIssuerProfile", args, gas))

    def set_issuer_active(self, sender: LocalAccount, issuer_id: bytes, active: bool) -> TxResult:
        if not isinstance(active, bool):
            raise ConfigurationError("active must be True or False")
        args = (_bytes32("issuer_id", issuer_id), active)
        return self._transact(sender, _Pending(self.trust, "setIssuerActive", args, 100_000))

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
        fn = self.trust.functions.keyAcceptanceDigest(_bytes32("issuer_id", issuer_id), _address("key", key))
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
        if not isinstance(acceptance, bytes) or not 0 < len(acceptance) <= _MAX_ACCEPTANCE_BYTES:
            raise ConfigurationError(f"acceptance must be a signature of 1 to {_MAX_ACCEPTANCE_BYTES} bytes")
        return _address(name, key), acceptance

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
        issuer_id = _bytes32("issuer_id", issuer_id)
        address, signature = self._new_key("key", issuer_id, key, acceptance)
        args = (
            issuer_id,
            address,
            _uint("valid_from", valid_from, _UINT64_MAX),
            _uint("valid_until", valid_until, _UINT64_MAX),
            signature,
        )
        gas = 160_000 + 16 * len(signature)
        return self._transact(sender, _Pending(self.trust, "addKey", args, gas))

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
        issuer_id = _bytes32("issuer_id", issuer_id)
        address, signature = self._new_key("new_key", issuer_id, new_key, acceptance)
        args = (issuer_id, _address("old_key", old_key), address, signature)
        gas = 300_000 + 16 * len(signature)
        return self._transact(sender, _Pending(self.trust, "rotateKey", args, gas))

    def retire_key(self, sender: LocalAccount, issuer_id: bytes, key: str) -> TxResult:
        args = (_bytes32("issuer_id", issuer_id), _address("key", key))
        return self._transact(sender, _Pending(self.trust, "retireKey", args, 150_000))

    def declare_key_compromised(
        self, sender: LocalAccount, issuer_id: bytes, key: str, *, compromised_at: int
    ) -> TxResult:
        args = (
            _bytes32("issuer_id", issuer_id),
            _address("key", key),
            _uint("compromised_at", compromised_at, _UINT64_MAX),
        )
        # the walk over self-rotated successors costs up to about 800,000 gas (64 keys)
        return self._transact(sender, _Pending(self.trust, "declareKeyCompromised", args, 1_200_000))

    def allow_issuer_region(self, sender: LocalAccount, issuer_id: bytes, region: int) -> TxResult:
        """Allow ``issuer_id`` to be registered in ``region`` although its credit code names a
        division elsewhere (federation admins; ``region=0`` withdraws the exception)."""
        checked = 0 if region == 0 else _region(region)
        args = (_bytes32("issuer_id", issuer_id), checked)
        return self._transact(sender, _Pending(self.trust, "allowIssuerRegion", args, 100_000))

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
            _bytes32("issuer_id", issuer_id),
            _bytes32("license_type", license_type),
            _uint("valid_from", valid_from, _UINT64_MAX),
            _uint("valid_until", valid_until, _UINT64_MAX),
        )
        return self._transact(sender, _Pending(self.trust, "permitLicenseType", args, 100_000))

    # -- LicenseRegistry writes --------------------------------------------------------------------

    def anchor(self, sender: LocalAccount, digests: Sequence[bytes]) -> AnchorResult:
        """Anchor a batch of license digests (any order, no duplicates) as one Merkle root."""
        checked = _digests("digests", digests)
        if len(set(checked)) != len(checked):
            raise ConfigurationError("digests hold duplicates; each license is anchored once per batch")
        tree = MerkleTree(sorted(checked))
        n = len(tree)
        calldata = 4 + 32 * 3 + 32 * n
        # enough for the EIP-7623 floor (40 gas per calldata byte, charged at the end) and for the
        # execution (about 550 gas per digest) after the standard calldata cost (16 per byte)
        gas = int(max(21_000 + 40 * calldata, 21_000 + 16 * calldata + 120_000 + 700 * n) * 1.1)
        tx = self._transact(sender, _Pending(self.licenses, "anchor", (tree.root, list(tree.digests)), gas))
        anchored = [e for e in tx.events if isinstance(e, BatchAnchored)]
        if len(anchored) != 1 or anchored[0].root != tree.root:
            raise TransactionError("the anchor transaction did not emit the expected BatchAnchored event")
        return AnchorResult(tx=tx, root=tree.root, issuer_id=anchored[0].issuer_id, key=anchored[0].key, count=n)

    def suspend(self, sender: LocalAccount, issuer_id: bytes, digests: Sequence[bytes], *, reason: int) -> TxResult:
        return self._status_change(sender, "suspend", issuer_id, digests, reason)

    def reinstate(
        self, sender: LocalAccount, issuer_id: bytes, digests: Sequence[bytes], *, reason: int = 0
    ) -> TxResult:
        return self._status_change(sender, "reinstate", issuer_id, digests, reason)

    def revoke(self, sender: LocalAccount, issuer_id: bytes, digests: Sequence[bytes], *, reason: int) -> TxResult:
        return self._status_change(sender, "revoke", issuer_id, digests, reason)

    def supersede(
        self,
        sender: LocalAccount,
        issuer_id: bytes,
        digests: Sequence[bytes],
        replacements: Sequence[bytes],
        *,
        reason: int,
    ) -> TxResult:
        checked = _digests("digests", digests, maximum=MAX_STATUS_BATCH // 2)
        repl = _digests("replacements", replacements, maximum=MAX_STATUS_BATCH // 2)
        if len(checked) != len(repl):
            raise ConfigurationError(
                f"supersede needs one replacement per digest: {len(checked)} digests, {len(repl)} replacements"
            )
        args = (_bytes32("issuer_id", issuer_id), checked, repl, _uint("reason", reason, _UINT16_MAX))
        gas = 80_000 + 55_000 * len(checked)
        return self._transact(sender, _Pending(self.licenses, "supersede", args, gas))

    def void_status_changes(self, sender: LocalAccount, issuer_id: bytes, digests: Sequence[bytes]) -> TxResult:
        """Make licenses active again whose status was set by a key since declared compromised from
        an earlier time (region authorities only)."""
        checked = _digests("digests", digests, maximum=MAX_STATUS_BATCH)
        args = (_bytes32("issuer_id", issuer_id), checked)
        gas = 80_000 + 20_000 * len(checked)
        return self._transact(sender, _Pending(self.licenses, "voidStatusChanges", args, gas))

    def _status_change(
        self, sender: LocalAccount, function: str, issuer_id: bytes, digests: Sequence[bytes], reason: int
    ) -> TxResult:
        checked = _digests("digests", digests, maximum=MAX_STATUS_BATCH)
        args = (_bytes32("issuer_id", issuer_id), checked, _uint("reason", reason, _UINT16_MAX))
        gas = 80_000 + 30_000 * len(checked)
        return self._transact(sender, _Pending(self.licenses, function, args, gas))

    # -- value transfers (development and consortium chains with priced gas) -----------------------

    def fund(self, sender: LocalAccount, to: str, wei: int) -> int:
        """Send ``wei`` to ``to`` so a new key can pay for gas; returns the gas used."""
        to = _address("to", to)
        _uint("wei", wei, 2**255)
        with _rpc_errors("the chain node"):
            tx: dict[str, Any] = {
                "to": to,
                "value": wei,
                "gas": 21_000,
                "nonce": self.w3.eth.get_transaction_count(sender.address, "pending"),
                "chainId": self.deployment.chain_id,
                **self.gas_policy.fees(self.w3),
            }
            signed = sender.sign_transaction(tx)
            tx_hash = self.w3.eth.send_raw_transaction(signed.raw_transaction)
            receipt = _wait(self.w3, tx_hash, self.confirmations, self.receipt_timeout)
        if receipt["status"] != 1:
            raise TransactionError(f"transfer to {to} failed")
        return int(receipt["gasUsed"])

    # -- reads -------------------------------------------------------------------------------------

    def _call(self, fn: Any) -> Any:
        with _rpc_errors("the chain node"):
            try:
                return fn.call()
            except Exception as exc:
                if _is_connection_error(exc):
                    raise
                mapped = self._reverts.from_exception(exc)
                if mapped is not None:
                    raise mapped from None
                raise TransactionError(f"call {fn.fn_name} failed: {exc}") from exc

    def is_federation_admin(self, account: str) -> bool:
        return bool(self._call(self.trust.functions.hasRole(FEDERATION_ADMIN_ROLE, _address("account", account))))

    def get_region(self, region: int) -> Region | None:
        exists, name = self._call(self.trust.functions.getRegion(_region(region)))
        return Region(code=region, name=name) if exists else None

    def is_region_authority(self, region: int, account: str) -> bool:
        return bool(self._call(self.trust.functions.isRegionAuthority(_region(region), _address("account", account))))

    def get_issuer(self, issuer_id: bytes) -> Issuer | None:
        exists, active, region, profile_hash, name, uri = self._call(
            self.trust.functions.getIssuer(_bytes32("issuer_id", issuer_id))
        )
        if not exists:
            return None
        return Issuer(
            issuer_id=issuer_id, region=region, active=active, name=name, profile_hash=profile_hash, profile_uri=uri
        )

    def get_key(self, key: str) -> KeyWindow | None:
        issuer_id, valid_from, valid_until = self._call(self.trust.functions.getKey(_address("key", key)))
        if issuer_id == b"\x00" * 32:
            return None
        return KeyWindow(
            key=to_checksum_address(key), issuer_id=issuer_id, valid_from=valid_from, valid_until=valid_until
        )

    def get_rotation(self, key: str) -> tuple[str | None, bool, bool]:
        """(successor, rotated by itself, closed): the key's rotation, if any; a closed key was
        rotated or retired and can be neither again."""
        successor, by_self, closed = self._call(self.trust.functions.getRotation(_address("key", key)))
        return (None if int(successor, 16) == 0 else to_checksum_address(successor), bool(by_self), bool(closed))

    def is_key_valid(self, issuer_id: bytes, key: str, at: int) -> bool:
        fn = self.trust.functions.isKeyValid(
            _bytes32("issuer_id", issuer_id), _address("key", key), _uint("at", at, _UINT64_MAX)
        )
        return bool(self._call(fn))

    def may_issue(self, issuer_id: bytes, license_type: bytes, at: int) -> bool:
        fn = self.trust.functions.mayIssue(
            _bytes32("issuer_id", issuer_id), _bytes32("license_type", license_type), _uint("at", at, _UINT64_MAX)
        )
        return bool(self._call(fn))

    def get_type_permission(self, issuer_id: bytes, license_type: bytes) -> TypePermission | None:
        valid_from, valid_until = self._call(
            self.trust.functions.getTypePermission(
                _bytes32("issuer_id", issuer_id), _bytes32("license_type", license_type)
            )
        )
        if valid_from == 0 and valid_until == 0:
            return None
        return TypePermission(
            issuer_id=issuer_id, license_type=license_type, valid_from=valid_from, valid_until=valid_until
        )

    def is_authority_of_issuer(self, issuer_id: bytes, account: str) -> bool:
        fn = self.trust.functions.isAuthorityOfIssuer(_bytes32("issuer_id", issuer_id), _address("account", account))
        return bool(self._call(fn))

    def get_allowed_region(self, issuer_id: bytes) -> int | None:
        """The region a federation admin allowed ``issuer_id`` in outside its code's division."""
        region = int(self._call(self.trust.functions.getAllowedRegion(_bytes32("issuer_id", issuer_id))))
        return region or None

    def get_anchor(self, issuer_id: bytes, root: bytes) -> Anchor | None:
        """The anchor of ``root`` by ``issuer_id`` (``None`` when that issuer did not anchor it, even
        if another issuer anchored the same root)."""
        issuer_id = _bytes32("issuer_id", issuer_id)
        key, timestamp, block_number, count = self._call(
            self.licenses.functions.getAnchor(issuer_id, _bytes32("root", root))
        )
        if int(key, 16) == 0:
            return None
        return Anchor(
            root=root,
            issuer_id=issuer_id,
            key=to_checksum_address(key),
            timestamp=timestamp,
            block_number=block_number,
            count=count,
        )

    def get_status(self, issuer_id: bytes, digest: bytes) -> LicenseStatus:
        status, reason, set_by, set_at, replacement = self._call(
            self.licenses.functions.getStatus(_bytes32("issuer_id", issuer_id), _bytes32("digest", digest))
        )
        return LicenseStatus(
            status=Status(status),
            reason=reason,
            replacement=None if replacement == b"\x00" * 32 else replacement,
            set_by=None if int(set_by, 16) == 0 else to_checksum_address(set_by),
            set_at=set_at,
        )

    def check_license(
        self, issuer_id: bytes, digest: bytes, signature: bytes, root: bytes, proof: Sequence[bytes]
    ) -> dict[str, Any]:
        """What ``LicenseRegistry.checkLicense`` says of a presented license (the on-chain check other
        contracts use): anchored, signer, key valid at anchoring, anchoring time, status."""
        if not isinstance(signature, bytes) or len(signature) != 64:
            raise ConfigurationError("signature must be 64 bytes (EIP-2098 compact form)")
        anchored, signer, checked_issuer, key_valid, anchored_at, status = self._call(
            self.licenses.functions.checkLicense(
                _bytes32("issuer_id", issuer_id),
                _bytes32("digest", digest),
                signature[:32],
                signature[32:],
                _bytes32("root", root),
                [_bytes32(f"proof[{i}]", p) for i, p in enumerate(proof)],
            )
        )
        return {
            "anchored": anchored,
            "signer": to_checksum_address(signer),
            "issuer_id": checked_issuer,
            "key_valid_at_anchor": key_valid,
            "anchored_at": anchored_at,
            "status": Status(status),
        }

    # -- chain state and events --------------------------------------------------------------------

    def block_number(self) -> int:
        with _rpc_errors("the chain node"):
            return int(self.w3.eth.block_number)

    def get_events(self, from_block: int, to_block: int | None = None) -> list[RegistryEvent]:
        """Every registry event in ``[from_block, to_block]`` (default: up to the latest block), in
        chain order."""
        _uint("from_block", from_block, 2**63)
        with _rpc_errors("the chain node"):
            end = int(self.w3.eth.block_number) if to_block is None else _uint("to_block", to_block, 2**63)
            logs = self.w3.eth.get_logs(
                {
                    "fromBlock": from_block,
                    "toBlock": end,
                    "address": [self.trust.address, self.licenses.address],
                }
            )
        decoded = [self.events.decode(log) for log in logs]
        events = [e for e in decoded if e is not None]
        events.sort(key=lambda e: (e.meta.block_number, e.meta.log_index))
        return events


# ------------------------------------------------------------------------------------------------
# Low-level send
# ------------------------------------------------------------------------------------------------


def _send_raw(
    w3: Web3,
    sender: LocalAccount,
    fn: Any,
    *,
    gas: int,
    policy: GasPolicy,
    chain_id: int,
    confirmations: int,
    timeout: float,
    reverts: RevertDecoder | None = None,
) -> Any:
    block_gas_limit = int(w3.eth.get_block("latest")["gasLimit"])
    tx = fn.build_transaction(
        {
            "from": sender.address,
            "nonce": w3.eth.get_transaction_count(sender.address, "pending"),
            "gas": min(gas, block_gas_limit, TX_GAS_CAP),
            "chainId": chain_id,
            "value": 0,
            **policy.fees(w3),
        }
    )
    signed = sender.sign_transaction(tx)
    try:
        tx_hash = w3.eth.send_raw_transaction(signed.raw_transaction)
    except Exception as exc:
        if _is_connection_error(exc):
            raise
        mapped = reverts.from_exception(exc) if reverts is not None else None
        if mapped is not None:
            raise mapped from None
        if isinstance(exc, Web3RPCError):
            raise TransactionError(f"the node refused the transaction: {exc}") from exc
        raise
    failpoint("after_send")  # crash tests only: sent, no receipt yet
    receipt = _wait(w3, tx_hash, confirmations, timeout)
    if receipt["status"] != 1:
        raise _explain_failure(w3, tx, receipt, reverts)
    return receipt


def _wait(w3: Web3, tx_hash: Any, confirmations: int, timeout: float) -> Any:
    try:
        receipt = w3.eth.wait_for_transaction_receipt(tx_hash, timeout=timeout, poll_latency=0.05)
    except TimeExhausted as exc:
        raise TransactionError(f"no receipt for 0x{bytes(tx_hash).hex()} within {timeout} s") from exc
    if confirmations > 1:
        deadline = time.monotonic() + timeout
        target = int(receipt["blockNumber"]) + confirmations - 1
        while int(w3.eth.block_number) < target:
            if time.monotonic() > deadline:
                raise TransactionError(f"0x{bytes(tx_hash).hex()} not {confirmations} blocks deep within {timeout} s")
            time.sleep(0.2)
        fresh = w3.eth.get_transaction_receipt(tx_hash)
        if fresh is None or bytes(fresh["blockHash"]) != bytes(receipt["blockHash"]):
            raise TransactionError(f"0x{bytes(tx_hash).hex()} was reorganised out while waiting for confirmations")
    return receipt


def _explain_failure(w3: Web3, tx: dict[str, Any], receipt: Any, reverts: RevertDecoder | None) -> Exception:
    """A mined transaction failed: replay it on the parent block to recover the revert reason."""
    call: TxParams = {"from": tx["from"], "to": tx["to"], "data": tx["data"], "value": tx.get("value", 0)}
    try:
        w3.eth.call(call, block_identifier=int(receipt["blockNumber"]) - 1)
    except Exception as exc:  # noqa: BLE001 - any failure of the replay only means "no better reason"
        mapped = reverts.from_exception(exc) if reverts is not None else None
        if isinstance(mapped, ContractRevertError):
            return mapped
    return TransactionError(
        f"transaction 0x{bytes(receipt['transactionHash']).hex()} failed in block {receipt['blockNumber']} "
        f"(gas used {receipt['gasUsed']} of {tx['gas']})"
    )
