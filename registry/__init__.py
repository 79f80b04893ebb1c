"""The license and its registry, in three parts by role:

- ``registry.document``: license types and their fields, Chinese identifiers, the signed document
  with its field commitments, and the QR presentation;
- ``registry.chain``: the client of the two registry contracts (transport, events, records,
  deployments, shipped artifacts);
- ``registry.issuer``: the issuing department, its store and migrations, and the anchoring worker.

The names below are the package's public surface (pinned by ``tests/test_architecture.py``);
errors form one tree, drawn in :mod:`registry.errors`.
"""

from registry.chain.client import (
    FEDERATION_ADMIN_ROLE,
    MAX_BATCH_SIZE,
    AnchorResult,
    DeployResult,
    GasPolicy,
    RegistryClient,
    TxResult,
    connect,
    dev_accounts,
)
from registry.chain.deployment import Deployment
from registry.chain.records import (
    OPEN_END,
    Anchor,
    Issuer,
    KeyWindow,
    LicenseStatus,
    Region,
    Status,
    TypePermission,
    license_type_code,
    license_type_id,
)
from registry.document.identifiers import (
    FieldValueError,
    LicenseIdentifier,
    issuer_id_from_uscc,
    uscc_from_issuer_id,
    validate_uscc,
)
from registry.document.license import License
from registry.document.licensetypes import CATALOG, LicenseType, get_type
from registry.document.presentation import MalformedPresentationError, Presentation, decode_presentation, present
from registry.document.suites import SignatureSuite
from registry.errors import (
    ChainUnavailableError,
    ConfigurationError,
    ConflictError,
    ContractRevertError,
    ElicenseError,
    InvalidArgumentError,
    InvalidStateError,
    IssuerOutsideRegionError,
    KeyNotAcceptedError,
    NotFoundError,
    RegistryError,
    RevertedNotFoundError,
    TransactionError,
    UnauthorizedError,
)
from registry.issuer.department import Department, IssueRequest, LicenseNotFoundError
from registry.issuer.store import IssuerStore
from registry.issuer.worker import AnchorWorker

__all__ = [
    "CATALOG",
    "FEDERATION_ADMIN_ROLE",
    "MAX_BATCH_SIZE",
    "OPEN_END",
    "Anchor",
    "AnchorResult",
    "AnchorWorker",
    "ChainUnavailableError",
    "ConfigurationError",
    "ConflictError",
    "ContractRevertError",
    "Department",
    "DeployResult",
    "Deployment",
    "ElicenseError",
    "FieldValueError",
    "GasPolicy",
    "InvalidArgumentError",
    "InvalidStateError",
    "IssueRequest",
    "Issuer",
    "IssuerOutsideRegionError",
    "IssuerStore",
    "KeyNotAcceptedError",
    "KeyWindow",
    "License",
    "LicenseIdentifier",
    "LicenseNotFoundError",
    "LicenseStatus",
    "LicenseType",
    "MalformedPresentationError",
    "NotFoundError",
    "Presentation",
    "Region",
    "RegistryClient",
    "RegistryError",
    "RevertedNotFoundError",
    "SignatureSuite",
    "Status",
    "TransactionError",
    "TxResult",
    "TypePermission",
    "UnauthorizedError",
    "connect",
    "decode_presentation",
    "dev_accounts",
    "get_type",
    "issuer_id_from_uscc",
    "license_type_code",
    "license_type_id",
    "present",
    "uscc_from_issuer_id",
    "validate_uscc",
]
