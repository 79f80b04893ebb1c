"""Service settings, read from the environment (``ELICENSE_*``) by the app only."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Configuration of ``elicense serve``. Every field can be set as ``ELICENSE_<NAME>``."""

    model_config = SettingsConfigDict(env_prefix="ELICENSE_", extra="ignore")

    home: Path = Field(default=Path.home() / ".elicense", description="keystores, deployment, stores")
    rpc_url: str | None = Field(default=None, description="JSON-RPC URL of the chain")
    db: str | None = Field(default=None, description="issuer store URL (default sqlite:///HOME/store.db)")
    mirror_db: str | None = Field(default=None, description="mirror URL (default sqlite:///HOME/mirror.db)")
    confirmations: int = Field(default=2, ge=1, le=1000)
    max_anchors_per_issuer: int = Field(
        default=5_000_000,
        ge=1_000,
        le=10**9,
        description="anchored digests indexed per issuer; more are counted, not indexed (about 110 bytes each)",
    )
    sync_interval: float = Field(default=2.0, gt=0, le=3600)
    stale_after: float = Field(default=120.0, gt=0, description="seconds after which the mirror is stale")
    stale_policy: Literal["warn", "refuse"] = "warn"
    max_body_bytes: int = Field(default=8 * 1024 * 1024, ge=1024)
    max_image_bytes: int = Field(default=10 * 1024 * 1024, ge=1024)
    max_batch: int = Field(default=10_000, ge=1, le=100_000)
    verify_workers: int | None = Field(
        default=None,
        ge=0,
        le=64,
        description="processes answering verifications on the port beside the primary (unset: one per core; "
        "0: one process serves everything)",
    )
    batch_workers: int = Field(default=0, ge=0, le=64, description="processes for batch verification (0: cores)")
    batch_concurrency: int = Field(default=0, ge=0, le=256, description="batches verified at once (0: 2 per core)")
    image_workers: int = Field(default=0, ge=0, le=64, description="images decoded at once (0: one per core)")
    busy_wait: float = Field(
        default=5.0, ge=0, le=120, description="seconds a batch or image waits for its turn before a 503"
    )
    idempotency_claim_seconds: float = Field(
        default=60.0,
        gt=0,
        le=86_400,
        description="an Idempotency-Key whose request has not finished after this long can be taken over by a retry",
    )
    anchor_batch_size: int = Field(default=1000, ge=1, le=10_000)
    anchor_interval: float = Field(default=5.0, gt=0)
    co_signing_keys: str = Field(
        default="",
        max_length=20_000,
        description="departments' co-signing keystores (BLS12-381): USCC=KEYSTORE[:PASSWORD_ENV], comma-separated; "
        "a department without one imports co-signatures made elsewhere",
    )
    webhook_interval: float = Field(default=1.0, gt=0, le=3600, description="seconds between webhook delivery passes")
    webhook_max_attempts: int = Field(default=12, ge=1, le=100, description="attempts before a delivery is failed")
    webhook_retry_base: float = Field(default=1.0, gt=0, le=3600, description="first retry delay (doubles, jittered)")
    webhook_max_backoff: float = Field(default=3600.0, gt=0, le=604_800, description="longest retry delay")
    webhook_timeout: float = Field(default=10.0, gt=0, le=120, description="seconds a callback may take to answer")
    webhook_allow_private: bool = Field(
        default=False,
        description="allow callbacks to loopback and private addresses (a closed network; refused by default, "
        "at subscription and again at every delivery, so subscribers cannot make the service reach its own network)",
    )
    webhook_key: str | None = Field(
        default=None,
        max_length=4096,
        description="the key sealing the subscriptions' secrets (`elicense webhook key create`): a name under "
        "HOME/keys or a keystore file; without one, new subscriptions are refused (503), except on the in-process "
        "development chain, where a key is made for the run",
    )
    webhook_key_password_env: str = Field(
        default="ELICENSE_WEBHOOK_KEY_PASSWORD", description="environment variable holding its password"
    )
    webhook_key_password_file: Path | None = Field(default=None, description="or a file holding its password")
    webhook_concurrency: int = Field(
        default=8, ge=1, le=256, description="deliveries sent at once (one subscription takes at most half)"
    )
    receipt_key: str | None = Field(
        default=None,
        max_length=4096,
        description="the service's receipt signing identity (`elicense receipt key create`): a name under "
        "HOME/keys or a keystore file; without one, receipts are refused (503)",
    )
    receipt_key_password_env: str = Field(
        default="ELICENSE_RECEIPT_KEY_PASSWORD", description="environment variable holding its password"
    )
    receipt_key_password_file: Path | None = Field(default=None, description="or a file holding its password")
    static_vendor: Path | None = Field(default=None, description="folder holding jsQR.js")

    @property
    def store_url(self) -> str:
        return self.db or f"sqlite:///{self.home / 'store.db'}"

    @property
    def mirror_url(self) -> str:
        return self.mirror_db or f"sqlite:///{self.home / 'mirror.db'}"
