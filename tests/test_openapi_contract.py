"""The OpenAPI document tells the truth: Schemathesis drives every operation of the real app (the
demo's chain, mirror and departments, an API key of one department) with values drawn from the
document, and every check it knows holds: no server error, only declared statuses, content types
and headers, responses matching their schemas, schema-valid data accepted and invalid data
rejected, undeclared methods answered 405 with ``Allow``, and the issuer endpoints refusing
requests without the key."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import settings
from stdnum.cn import uscc

from api.main import create_app
from api.services import Services
from api.settings import Settings
from devkit.demo import run_demo
from registry import connect
from verifier.mirror import Mirror
from verifier.receipts import VerifierIdentity

pytestmark = pytest.mark.slow  # started first when the suite is spread over processes


BUREAU = "11110000MB0195560T"
CODE = BUREAU[:17] + uscc.calc_check_digit(BUREAU[:17])


@pytest.fixture(scope="module")
def contract(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TestClient, str]]:
    home: Path = tmp_path_factory.mktemp("contract")
    demo = run_demo(home, connect(None), rpc_url=None, licenses=20, echo=lambda _m: None)
    deployment = demo.client.deployment
    services = Services(
        Settings(home=home),
        deployment=deployment,
        client=demo.client,
        mirror=Mirror.at(home / "mirror.db", deployment, confirmations=1),
        store=demo.store,
        departments=demo.departments,
        receipt_identity=VerifierIdentity.generate("110000-contract-test"),
    )
    _, key = services.api_keys.create(CODE, "contract test")
    with TestClient(create_app(services)) as client:  # runs the lifespan: the mirror is synced
        yield client, key


#: How the checks are tuned, each with its reason:
#: - JSON Schema cannot express what the issuer endpoints check beyond the shapes the document gives:
#:   the check characters of credit codes (GB 32100) and license ids (ISO 7064 MOD 37,36), and each
#:   license type's field rules (identity numbers, division codes, dates, choices). Values of the
#:   documented shape that fail those checks are answered 422 with the field named, so 422 counts
#:   as an answer to schema-valid data there.
#: - Any bytes are a schema-valid upload to /v1/verify/image; only decoding tells whether they are
#:   an image with a QR code (422 with "not a readable image" otherwise).
#: - A body over the service's size limit is refused with 413 before it is read, whatever it holds:
#:   413 counts as rejecting invalid data (Schemathesis builds over-long arrays that way).
CONFIG = {
    "checks": {
        "negative_data_rejection": {
            "expected-statuses": ["400", "401", "403", "404", "405", "406", "409", "413", "415", "422", "428", "429"]
        }
    },
    "operations": [
        {
            "include-path-regex": "^/v1/verify/image$",
            "checks": {"positive_data_acceptance": {"expected-statuses": ["2xx", "401", "403", "404", "409", "422"]}},
        },
        {
            # one target of the three, and a license id this service's store knows (or with its digest)
            "include-path-regex": "^/v1/subscriptions",
            "checks": {"positive_data_acceptance": {"expected-statuses": ["2xx", "401", "404", "409", "422"]}},
        },
        {
            "include-path-regex": "^/v1/issuers/",
            "checks": {"positive_data_acceptance": {"expected-statuses": ["2xx", "401", "403", "404", "409", "422"]}},
        },
    ],
}


@pytest.fixture(scope="module")
def api_schema(contract: tuple[TestClient, str]) -> schemathesis.BaseSchema:
    client, _ = contract
    return schemathesis.openapi.from_asgi("/openapi.json", client.app, config=schemathesis.Config.from_dict(CONFIG))


@pytest.fixture(scope="module")
def auth(contract: tuple[TestClient, str]) -> dict[str, str]:
    return {"Authorization": f"Bearer {contract[1]}"}


@pytest.fixture(autouse=True)
def _subtest_names(request: pytest.FixtureRequest) -> None:
    """Schemathesis names each operation's subtest by rewriting the node's private ``_nodeid``,
    which pytest 9 no longer sets: give it the node's id to start from."""
    request.node._nodeid = request.node.nodeid


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@settings(max_examples=5, derandomize=True, deadline=None)
def test_the_service_keeps_its_openapi_contract(case: schemathesis.Case, auth: dict[str, str]) -> None:
    if case.meta is not None and case.meta.generation.mode.is_positive and "uscc" in (case.path_parameters or {}):
        # a drawn credit code is almost never the key's department: act for the department, so that
        # schema-valid requests reach the issuer endpoints instead of stopping at 403
        case.path_parameters = {**(case.path_parameters or {}), "uscc": CODE}
    case.call_and_validate(headers=auth)
