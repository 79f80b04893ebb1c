"""Sending transactions and calling views: the nonce, the gas limit and fees, waiting for receipts
and confirmations, and the explanation of a transaction that failed when mined.

Writes are signed locally by an ``eth_account`` account (never by the node), with an explicit gas
limit, after a dry run (``eth_call``) that turns a revert into a domain error before anything is
sent. Every failure goes through the one mapping of :func:`registry.chain._reverts.chain_errors`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from eth_account.signers.local import LocalAccount
from web3 import Web3
from web3.exceptions import TimeExhausted, Web3RPCError
from web3.types import TxParams

from registry._failpoints import failpoint
from registry.chain._reverts import RevertDecoder, chain_errors
from registry.chain.events import RegistryEvent
from registry.errors import ContractRevertError, TransactionError

__all__ = ["TX_GAS_CAP", "GasPolicy", "Transport", "TxResult"]

#: A transaction may use at most 2^24 gas (EIP-7825, in force since the Osaka upgrade).
TX_GAS_CAP = 2**24


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


@dataclass(frozen=True)
class Transport:
    """Sends signed transactions to one chain and calls views on it; ``reverts`` names the
    contracts' custom errors (``None`` while deploying, before there is a contract to blame)."""

    w3: Web3
    chain_id: int
    gas_policy: GasPolicy
    confirmations: int
    receipt_timeout: float
    reverts: RevertDecoder | None = None

    def call(self, fn: Any, block: int | None = None) -> Any:
        """The value of a view call, on the state at the head or after block ``block``."""
        with chain_errors(self.reverts, failed=f"call {fn.fn_name} failed"):
            return fn.call() if block is None else fn.call(block_identifier=block)

    def dry_run(self, sender: LocalAccount, fn: Any) -> None:
        """Run a write as a call first, so that a revert is a domain error before anything is sent."""
        with chain_errors(self.reverts, failed=f"dry run of {fn.fn_name} failed"):
            fn.call({"from": sender.address})

    def transact(
        self, sender: LocalAccount, fn: Any, gas: int, decode: Callable[[Any], RegistryEvent | None]
    ) -> TxResult:
        """Dry-run, send and wait for a write; ``decode`` keeps the registry events of its logs."""
        with chain_errors():
            self.dry_run(sender, fn)
            receipt = self.send(sender, fn, gas)
            block = self.w3.eth.get_block(receipt["blockNumber"])
        return TxResult(
            tx_hash=bytes(receipt["transactionHash"]),
            block_number=int(receipt["blockNumber"]),
            block_hash=bytes(receipt["blockHash"]),
            timestamp=int(block["timestamp"]),
            gas_used=int(receipt["gasUsed"]),
            events=tuple(e for e in (decode(log) for log in receipt["logs"]) if e is not None),
        )

    def send(self, sender: LocalAccount, fn: Any, gas: int) -> Any:
        """Sign and send ``fn`` (a contract call or constructor) with at most ``gas``, wait for its
        receipt and confirmations; a transaction that failed when mined raises its revert."""
        w3 = self.w3
        with chain_errors():
            block_gas_limit = int(w3.eth.get_block("latest")["gasLimit"])
            tx = fn.build_transaction(
                {
                    "from": sender.address,
                    "nonce": w3.eth.get_transaction_count(sender.address, "pending"),
                    "gas": min(gas, block_gas_limit, TX_GAS_CAP),
                    "chainId": self.chain_id,
                    "value": 0,
                    **self.gas_policy.fees(w3),
                }
            )
            signed = sender.sign_transaction(tx)
            with chain_errors(self.reverts, failed="the node refused the transaction", failing=Web3RPCError):
                tx_hash = w3.eth.send_raw_transaction(signed.raw_transaction)
            failpoint("after_send")  # crash tests only: sent, no receipt yet
            receipt = _wait(w3, tx_hash, self.confirmations, self.receipt_timeout)
            if receipt["status"] != 1:
                raise self._explain_failure(tx, receipt)
        return receipt

    def transfer(self, sender: LocalAccount, to: str, wei: int) -> Any:
        """Send ``wei`` to ``to`` and wait for the receipt."""
        with chain_errors():
            tx: dict[str, Any] = {
                "to": to,
                "value": wei,
                "gas": 21_000,
                "nonce": self.w3.eth.get_transaction_count(sender.address, "pending"),
                "chainId": self.chain_id,
                **self.gas_policy.fees(self.w3),
            }
            signed = sender.sign_transaction(tx)
            tx_hash = self.w3.eth.send_raw_transaction(signed.raw_transaction)
            return _wait(self.w3, tx_hash, self.confirmations, self.receipt_timeout)

    def _explain_failure(self, tx: dict[str, Any], receipt: Any) -> Exception:
        """A mined transaction failed: replay it on the parent block to recover the revert reason."""
        call: TxParams = {"from": tx["from"], "to": tx["to"], "data": tx["data"], "value": tx.get("value", 0)}
        try:
            with chain_errors(self.reverts):
                self.w3.eth.call(call, block_identifier=int(receipt["blockNumber"]) - 1)
        except ContractRevertError as exc:
            return exc
        except Exception:  # noqa: BLE001, S110 - any other failure of the replay only means "no better reason"
            pass
        return TransactionError(
            f"transaction 0x{bytes(receipt['transactionHash']).hex()} failed in block {receipt['blockNumber']} "
            f"(gas used {receipt['gasUsed']} of {tx['gas']})"
        )


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
