"""Verification: the pipeline that turns a QR text into an answer, the chain index it reads (from
the chain directly or from a local mirror of the registry's events), QR image reading, and the check
of a status webhook's signature for its receivers.

The names below are the package's public surface (pinned by ``tests/test_architecture.py``).
"""

from verifier.bundle import BUNDLE_HEADLINES, BundleOutcome, BundleResult
from verifier.mirror import Mirror, MirrorError, SyncReport
from verifier.pipeline import CHINA_TZ, HEADLINES, Outcome, Reason, VerificationResult, Verifier
from verifier.qr import QrImageError, read_qr_image
from verifier.state import ChainClientState, ChainState, EventIndex, Freshness
from verifier.webhooks import WebhookSignatureError, verify_webhook

__all__ = [
    "BUNDLE_HEADLINES",
    "CHINA_TZ",
    "HEADLINES",
    "BundleOutcome",
    "BundleResult",
    "ChainClientState",
    "ChainState",
    "EventIndex",
    "Freshness",
    "Mirror",
    "MirrorError",
    "Outcome",
    "QrImageError",
    "Reason",
    "SyncReport",
    "VerificationResult",
    "Verifier",
    "WebhookSignatureError",
    "read_qr_image",
    "verify_webhook",
]
