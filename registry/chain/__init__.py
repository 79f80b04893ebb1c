"""The chain client: JSON-RPC transport and revert mapping, the registry contracts' events and
records, deployments and the shipped contract artifacts."""
