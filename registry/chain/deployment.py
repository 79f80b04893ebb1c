"""Where the registry contracts live on a chain: the ``deployment.json`` of a home directory."""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from eth_utils.address import is_checksum_address, is_hex_address, to_checksum_address

from registry._files import private_dir
from registry.errors import ConfigurationError

__all__ = ["Deployment"]

_MAX_FILE = 64 * 1024


@dataclass(frozen=True, slots=True)
class Deployment:
    """Addresses of one deployment of the two registry contracts."""

    chain_id: int
    trust_registry: str
    license_registry: str
    block_number: int
    deployer: str

    def __post_init__(self) -> None:
        if not isinstance(self.chain_id, int) or isinstance(self.chain_id, bool) or self.chain_id <= 0:
            raise ConfigurationError(f"deployment chain_id must be a positive integer, got {self.chain_id!r}")
        if not isinstance(self.block_number, int) or isinstance(self.block_number, bool) or self.block_number < 0:
            raise ConfigurationError(
                f"deployment block_number must be a non-negative integer, got {self.block_number!r}"
            )
        for field in ("trust_registry", "license_registry", "deployer"):
            value = getattr(self, field)
            if not isinstance(value, str) or not is_hex_address(value):
                raise ConfigurationError(f"deployment {field} must be a 0x-prefixed 20-byte address, got {value!r}")
            body = value[2:]
            if body != body.lower() and body != body.upper() and not is_checksum_address(value):
                raise ConfigurationError(f"deployment {field} {value} has an invalid checksum")
            object.__setattr__(self, field, to_checksum_address(value))

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Any) -> Deployment:
        if not isinstance(data, dict):
            raise ConfigurationError("a deployment must be a JSON object")
        expected = {"chain_id", "trust_registry", "license_registry", "block_number", "deployer"}
        missing = expected - data.keys()
        if missing:
            raise ConfigurationError(f"deployment is missing {', '.join(sorted(missing))}")
        unknown = data.keys() - expected
        if unknown:
            raise ConfigurationError(f"deployment has unknown keys {', '.join(sorted(unknown))}")
        return cls(**{k: data[k] for k in expected})

    def save(self, path: str | Path) -> None:
        """Write atomically (temporary file, fsync, rename)."""
        path = Path(path)
        private_dir(path.parent)
        tmp = path.with_suffix(path.suffix + ".tmp")
        with tmp.open("w", encoding="utf-8") as fh:
            json.dump(self.to_dict(), fh, indent=2)
            fh.write("\n")
            fh.flush()
            os.fsync(fh.fileno())
        tmp.replace(path)

    @classmethod
    def load(cls, path: str | Path) -> Deployment:
        path = Path(path)
        try:
            size = path.stat().st_size
            if size > _MAX_FILE:
                raise ConfigurationError(f"{path} is {size} bytes; a deployment file is at most {_MAX_FILE}")
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ConfigurationError(f"no deployment at {path}; run `elicense deploy` first") from None
        except (OSError, ValueError) as exc:
            raise ConfigurationError(f"{path} is not a readable JSON deployment file: {exc}") from exc
        return cls.from_dict(data)
