"""What the two halves of :class:`~registry.chain.client.RegistryClient` (the trust registry's
calls and the license registry's) share: the contracts, the transport, and the event decoder."""

from __future__ import annotations

from typing import Any

from eth_account.signers.local import LocalAccount
from web3 import Web3
from web3.contract import Contract

from registry.chain.deployment import Deployment
from registry.chain.events import EventDecoder, RegistryEvent
from registry.chain.transport import Transport, TxResult


class ContractCalls:
    """Writes and reads of the deployment's contracts, through one :class:`Transport`."""

    w3: Web3
    deployment: Deployment
    trust: Contract
    licenses: Contract
    events: EventDecoder
    transport: Transport

    def _transact(self, sender: LocalAccount, fn: Any, gas: int) -> TxResult:
        return self.transport.transact(sender, fn, gas, self._registry_event)

    def _call(self, fn: Any, block: int | None = None) -> Any:
        return self.transport.call(fn, block)

    def _registry_event(self, log: Any) -> RegistryEvent | None:
        """The event of ``log`` when one of the two contracts emitted it."""
        event = self.events.decode(log)
        if event is None or event.meta.address not in (self.trust.address, self.licenses.address):
            return None
        return event
