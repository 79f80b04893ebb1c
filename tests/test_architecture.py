"""The tree reads as the data flow: each package imports only from the layers below it, production
code never imports the development helpers or the tests, and each package's public surface is
pinned here so that a change to it is a decision, not an accident."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

from registry import errors

ROOT = Path(__file__).resolve().parent.parent
PRODUCTION = ("signer", "registry", "verifier", "api")
MAX_MODULE_LINES = 400

# Who may import whom. A module belongs to the longest prefix listed; it may import the packages
# named for it (and their submodules), the standard library and third-party packages.
LAYERS: dict[str, tuple[str, ...]] = {
    "signer": ("signer",),
    "registry.errors": ("signer",),
    "registry._files": (),
    "registry._failpoints": (),
    "registry.periodic": ("registry.errors",),
    "registry.document": ("signer", "registry.errors", "registry.document"),
    "registry.chain": (
        "signer",
        "registry.errors",
        "registry._files",
        "registry._failpoints",
        "registry.document",
        "registry.chain",
    ),
    "registry.issuer": (
        "signer",
        "registry.errors",
        "registry._files",
        "registry._failpoints",
        "registry.periodic",
        "registry.document",
        "registry.chain",
        "registry.issuer",
    ),
    "registry": ("signer", "registry"),
    "verifier": (
        "signer",
        "registry",
        "verifier",
    ),
    "api": ("signer", "registry", "verifier", "api"),
    "api.cli": ("signer", "registry", "verifier", "api"),
    "api.cli.demo": ("signer", "registry", "verifier", "api", "devkit"),
    "devkit": ("signer", "registry", "verifier", "api", "devkit"),
    "scripts": ("signer", "registry", "verifier", "api", "devkit", "scripts"),
}
OWN_PACKAGES = ("signer", "registry", "verifier", "api", "devkit", "scripts", "tests", "conftest")
#: Web frameworks stay in the HTTP service; the library below it never needs them.
WEB = ("fastapi", "starlette", "uvicorn")


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _layer(module: str) -> str:
    best = ""
    for layer in LAYERS:
        if (module == layer or module.startswith(layer + ".")) and len(layer) > len(best):
            best = layer
    assert best, f"{module} belongs to no layer"
    return best


def _imports(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.lineno, node.module))
    return found


def _sources() -> list[Path]:
    files = [p for package in (*PRODUCTION, "devkit", "scripts") for p in (ROOT / package).rglob("*.py")]
    return sorted(p for p in files if "migrations/versions" not in p.as_posix())


def _within(name: str, package: str) -> bool:
    return name == package or name.startswith(package + ".")


def test_every_import_goes_down_the_layers():
    wrong = []
    for path in _sources():
        module = _module_name(path)
        allowed = LAYERS[_layer(module)]
        for line, name in _imports(path):
            top = name.split(".")[0]
            if top not in OWN_PACKAGES:
                continue
            if not any(_within(name, ok) for ok in allowed):
                wrong.append(f"{path.relative_to(ROOT)}:{line} imports {name}")
    assert not wrong, "imports against the layering:\n" + "\n".join(wrong)


def test_the_library_never_imports_the_web_framework():
    wrong = [
        f"{path.relative_to(ROOT)}:{line} imports {name}"
        for path in _sources()
        if _module_name(path).split(".")[0] in ("signer", "registry", "verifier", "devkit")
        for line, name in _imports(path)
        if name.split(".")[0] in WEB
    ]
    assert not wrong, "\n".join(wrong)


def test_no_module_is_too_long_to_read():
    long = [
        f"{path.relative_to(ROOT)}: {n} lines"
        for path in _sources()
        if (n := len(path.read_text(encoding="utf-8").splitlines())) > MAX_MODULE_LINES
    ]
    assert not long, f"modules over {MAX_MODULE_LINES} lines:\n" + "\n".join(long)


def test_the_layer_table_rejects_an_upward_import(tmp_path):
    """The checker itself: a signer module importing the registry is caught."""
    bad = tmp_path / "bad.py"
    bad.write_text("from registry import RegistryClient\nimport fastapi\n", encoding="utf-8")
    names = [name for _, name in _imports(bad)]
    assert names == ["registry", "fastapi"]
    assert not any(_within("registry", ok) for ok in LAYERS[_layer("signer._secp256k1")])
    assert _layer("api.cli.keys") == "api.cli"
    assert _layer("registry.chain.client") == "registry.chain"
    assert "devkit" not in LAYERS[_layer("api.services")]


SURFACES = {
    "signer": [
        "CO_SIGNING_KIND",
        "DEFAULT_SCRYPT_N",
        "DEFAULT_SM2_ID",
        "MAX_CERTIFICATE_BYTES",
        "MAX_SM2_ID_BYTES",
        "SM2_KIND",
        "CoSigningKey",
        "ElicenseError",
        "KeystoreError",
        "LicenseSigner",
        "MerkleTree",
        "PasswordError",
        "PasswordSource",
        "SignerError",
        "SignerInputError",
        "Sm2Certificate",
        "Sm2LicenseSigner",
        "Sm2SigningKey",
        "WrongPasswordError",
        "aggregate_signatures",
        "check_sm2_public_key",
        "check_sm2_signature",
        "co_signing_key_id",
        "create_co_signing_keystore",
        "create_keystore",
        "create_sm2_keystore",
        "domain_separator",
        "import_keystore",
        "import_sm2_keystore",
        "keccak256",
        "keystore_address",
        "load_account",
        "load_co_signing_key",
        "load_sm2_key",
        "open_kind_keystore",
        "read_kind_keystore",
        "seal_kind_keystore",
        "merkle_root",
        "parse_sm2_certificate",
        "public_key_to_eip2537",
        "recover_signer",
        "sign_key_acceptance",
        "sign_sm2_account_acceptance",
        "sign_sm2_key_acceptance",
        "signature_to_eip2537",
        "sm2_key_acceptance_message",
        "verify_co_signatures",
        "verify_proof",
        "verify_proof_of_possession",
        "verify_sm2_key_acceptance",
        "verify_sm2_license",
        "verify_sm2_signature",
    ],
    "registry": [
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
        "DeployResult",
        "Department",
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
    ],
    "verifier": [
        "BUNDLE_HEADLINES",
        "BundleOutcome",
        "BundleResult",
        "CHINA_TZ",
        "HEADLINES",
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
    ],
}


@pytest.mark.parametrize("package", sorted(SURFACES))
def test_public_surface_is_pinned(package):
    module = importlib.import_module(package)
    assert sorted(module.__all__) == sorted(SURFACES[package])
    for name in module.__all__:
        assert getattr(module, name) is not None, f"{package}.{name} is listed but missing"


def test_every_error_is_in_one_tree_and_knows_its_http_status():
    for name in errors.__all__:
        cls = getattr(errors, name)
        if isinstance(cls, type) and issubclass(cls, Exception):
            assert issubclass(cls, errors.ElicenseError), name
            assert 400 <= cls.http_status <= 599, name
            assert cls.title, name
    for package in ("signer", "registry", "verifier"):
        module = importlib.import_module(package)
        for name in module.__all__:
            value = getattr(module, name)
            if isinstance(value, type) and issubclass(value, Exception):
                assert issubclass(value, errors.ElicenseError), f"{package}.{name} is outside the error tree"
