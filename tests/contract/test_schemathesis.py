"""Schemathesis: every operation of both families, valid and invalid data, all checks, from the committed contract."""

import json

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from litestar import Litestar
from litestar.testing import TestClient
from schemathesis.config import SchemathesisConfig
from schemathesis.specs.openapi.checks import ensure_resource_availability
from sqlalchemy.engine import URL

from sale_orders.contract import CONTRACT_PATH
from tests.support import REPO_ROOT
from tests.support.contract import ResourceLedger, call_and_validate, send
from tests.support.database import truncate

CONFIG = SchemathesisConfig.from_path(REPO_ROOT / "contracts/schemathesis.toml")
CONTRACT = json.loads((REPO_ROOT / CONTRACT_PATH).read_text())
schema = schemathesis.openapi.from_dict(CONTRACT, config=CONFIG)


# pytest 9.2 builds an item's id from its function name and parametrisation only: without a parametrisation of
# its own, every operation's item gets the same id, and pytest-xdist then runs just one of them.
@pytest.mark.parametrize("contract", [str(CONTRACT_PATH)])
@schema.parametrize()
@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
def test_every_operation_honours_the_contract(
    case: schemathesis.Case, client: TestClient[Litestar], contract: str
) -> None:
    call_and_validate(client, case)


@pytest.fixture
def state_machine(client: TestClient[Litestar], database_url: URL) -> type:
    class ContractStateMachine(schema.as_state_machine()):  # type: ignore[misc]
        def setup(self) -> None:
            """Each sequence starts from an empty database, so a replay sees the same ids and conflicts."""
            truncate(database_url)
            self.ledger = ResourceLedger()

        def call(self, case: schemathesis.Case, **kwargs: object) -> schemathesis.Response:
            del kwargs
            response, transport_kwargs = send(client, case)
            # The ledger replaces ensure_resource_availability, which cannot see that both families'
            # paths name the same rows.
            self.ledger.record(case, response)
            case.validate_response(
                response, transport_kwargs=transport_kwargs, excluded_checks=[ensure_resource_availability]
            )
            return schemathesis.Response.from_any(response)

        def validate_response(self, *args: object, **kwargs: object) -> None:
            """Validated in `call` already."""

    return ContractStateMachine


def test_stateful_sequences_across_both_families(state_machine: type) -> None:
    state_machine.run(
        settings=settings(
            max_examples=30, stateful_step_count=8, deadline=None, suppress_health_check=list(HealthCheck)
        )
    )


def test_stateful_runs_link_the_families_both_ways() -> None:
    rules = set(dir(schema.as_state_machine()))  # one method per inferred transition
    assert any(name.startswith("POST_sync_order___201") and "GET_async_order_item_id" in name for name in rules)
    assert any(name.startswith("POST_async_order___201") and "GET_sync_order_item_id" in name for name in rules)
