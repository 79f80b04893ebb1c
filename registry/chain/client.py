"""The chain client: deploys the registry contracts, sends every write, reads every view, decodes
every event. Works the same on the in-process EVM (``connect(None)``) and on any JSON-RPC node.

Each write is dry-run, signed locally, sent with an explicit gas limit computed per method, and
waited for (:mod:`registry.chain.transport`); it returns a :class:`TxResult` with the decoded
events. The calls of each contract are in :mod:`registry.chain.trust` and
:mod:`registry.chain.licenses`; joint issuance's in :mod:`registry.chain.joint`, and signing keys
bound to SM2 keys in :mod:`registry.chain.sm2`.
"""

from __future__ import annotations

from dataclasses import dataclass

from eth_account.signers.local import LocalAccount
from eth_utils.address import to_checksum_address
from web3 import Web3

from registry.chain import _args as check
from registry.chain._args import MAX_BATCH_SIZE, MAX_STATUS_BATCH
from registry.chain._reverts import RevertDecoder, chain_errors
from registry.chain.artifacts import load_artifact
from registry.chain.connect import connect, dev_accounts
from registry.chain.deployment import Deployment
from registry.chain.events import EventDecoder, RegistryEvent
from registry.chain.joint import JointAnchorResult, JointCalls
from registry.chain.licenses import AnchorResult, LicenseRegistryCalls
from registry.chain.sm2 import Sm2KeyCalls
from registry.chain.transport import GasPolicy, Transport, TxResult
from registry.chain.trust import FEDERATION_ADMIN_ROLE, TrustRegistryCalls
from registry.errors import ConfigurationError, TransactionError

__all__ = [
    "FEDERATION_ADMIN_ROLE",
    "MAX_BATCH_SIZE",
    "MAX_STATUS_BATCH",
    "AnchorResult",
    "DeployResult",
    "GasPolicy",
    "JointAnchorResult",
    "RegistryClient",
    "TxResult",
    "connect",
    "dev_accounts",
]


@dataclass(frozen=True, slots=True)
class DeployResult:
    deployment: Deployment
    trust_registry_gas: int
    license_registry_gas: int


class RegistryClient(TrustRegistryCalls, LicenseRegistryCalls, JointCalls, Sm2KeyCalls):
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
        trust = load_artifact("TrustRegistry")
        lic = load_artifact("LicenseRegistry")
        self.trust = w3.eth.contract(address=to_checksum_address(deployment.trust_registry), abi=trust.abi)
        self.licenses = w3.eth.contract(address=to_checksum_address(deployment.license_registry), abi=lic.abi)
        self.events = EventDecoder([trust.abi, lic.abi])
        self.transport = Transport(
            w3,
            deployment.chain_id,
            gas_policy or GasPolicy(),
            confirmations,
            receipt_timeout,
            RevertDecoder([("TrustRegistry", trust.abi), ("LicenseRegistry", lic.abi)]),
        )
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
        admin_address = check.address("admin", admin or deployer.address)
        trust_art = load_artifact("TrustRegistry")
        lic_art = load_artifact("LicenseRegistry")
        with chain_errors():
            chain_id = int(w3.eth.chain_id)
        transport = Transport(w3, chain_id, policy, confirmations, 120)
        trust_factory = w3.eth.contract(abi=trust_art.abi, bytecode=trust_art.bytecode)
        trust_receipt = transport.send(
            deployer, trust_factory.constructor(admin_address), _deploy_gas(trust_art.bytecode)
        )
        lic_factory = w3.eth.contract(abi=lic_art.abi, bytecode=lic_art.bytecode)
        lic_args = lic_factory.constructor(trust_receipt["contractAddress"])
        lic_receipt = transport.send(deployer, lic_args, _deploy_gas(lic_art.bytecode))
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
        with chain_errors():
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

    # -- value transfers (development and consortium chains with priced gas) -----------------------

    def fund(self, sender: LocalAccount, to: str, wei: int) -> int:
        """Send ``wei`` to ``to`` so a new key can pay for gas; returns the gas used."""
        to = check.address("to", to)
        check.uint("wei", wei, 2**255)
        receipt = self.transport.transfer(sender, to, wei)
        if receipt["status"] != 1:
            raise TransactionError(f"transfer to {to} failed")
        return int(receipt["gasUsed"])

    # -- chain state and events --------------------------------------------------------------------

    def block_number(self) -> int:
        with chain_errors():
            return int(self.w3.eth.block_number)

    def block_ref(self, block: int | None = None) -> tuple[int, bytes, int]:
        """(number, hash, timestamp) of block ``block`` of the chain as it is now, or of its head."""
        with chain_errors():
            found = self.w3.eth.get_block("latest" if block is None else check.uint("block", block, 2**63))
        return int(found["number"]), bytes(found["hash"]), int(found["timestamp"])

    def get_events(self, from_block: int, to_block: int | None = None) -> list[RegistryEvent]:
        """Every registry event in ``[from_block, to_block]`` (default: up to the latest block), in
        chain order."""
        check.uint("from_block", from_block, 2**63)
        with chain_errors():
            end = int(self.w3.eth.block_number) if to_block is None else check.uint("to_block", to_block, 2**63)
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


def _deploy_gas(bytecode: str) -> int:
    """A gas limit for deploying ``bytecode`` (hex): 200 gas per byte of code stored, the creation
    calldata at the EIP-7623 floor, and the constructor's own work."""
    size = (len(bytecode) - 2) // 2
    return 500_000 + 240 * size
