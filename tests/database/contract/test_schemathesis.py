"""Schemathesis: every operation of both families, valid and invalid data, all checks, from the committed contract.

The configuration and hooks are the CLI's (schemathesis.toml), with a write key of an app configured with keys, so
the auth checks (`ignored_auth`) run too. Schemathesis runs that app in-process through its ASGI transport, on
its one event loop for the whole session, so this app is the suite's own: no other client may start it.
"""

import json
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.generation.stateful import APIStateMachine
from schemathesis.python import asgi
from schemathesis.specs.openapi.checks import ensure_resource_availability
from sqlalchemy.engine import URL

from sale_orders.app import create_app
from sale_orders_tools.contract import CONTRACT_PATH
from tests.support import REPO_ROOT
from tests.support.auth import WRITE_KEY, settings_with_keys
from tests.support.contract import AppSlot, ContractCase, ResourceLedger, contract_config
from tests.support.database import truncate

CONFIG = contract_config(WRITE_KEY)
CONTRACT = json.loads((REPO_ROOT / CONTRACT_PATH).read_text())
APP = AppSlot()
schema = schemathesis.openapi.from_dict(CONTRACT, config=CONFIG)
schema.app = APP


@pytest.fixture(scope="module")
def contract_app(database_url: URL) -> Iterator[AppSlot]:
    """The suite's app, with API keys, in the slot Schemathesis sends every case to."""
    APP.app = create_app(database_url, settings_with_keys())
    yield APP
    asgi.shutdown_lifespans()
    APP.app = None


# pytest 9.2 builds an item's id from its function name and parametrisation only: without a parametrisation of
# its own, every operation's item gets the same id, and pytest-xdist then runs just one of them.
@pytest.mark.parametrize("contract", [str(CONTRACT_PATH)])
@schema.parametrize()
@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
def test_every_operation_honours_the_contract(case: ContractCase, contract_app: AppSlot, contract: str) -> None:
    case.call_and_validate()


@pytest.fixture
def state_machine(contract_app: AppSlot, database_url: URL) -> type[APIStateMachine]:
    class ContractStateMachine(schema.as_state_machine()):  # type: ignore[misc]
        def setup(self) -> None:
            """Each sequence starts from an empty database, so a replay sees the same ids and conflicts."""
            truncate(database_url)
            self.ledger = ResourceLedger()

        def after_call(self, response: schemathesis.Response, case: ContractCase) -> None:
            super().after_call(response, case)
            self.ledger.record(case, response)

        def validate_response(
            self, response: schemathesis.Response, case: ContractCase, *_: Any, **kwargs: Any
        ) -> None:
            # The ledger replaces ensure_resource_availability, which cannot see that both families'
            # paths name the same rows.
            case.validate_response(
                response,
                excluded_checks=[ensure_resource_availability],
                transport_kwargs=kwargs or None,
                recorder=self.recorder,
            )

    return ContractStateMachine


def test_stateful_sequences_across_both_families(state_machine: type[APIStateMachine]) -> None:
    state_machine.run(
        settings=settings(
            max_examples=30, stateful_step_count=8, deadline=None, suppress_health_check=list(HealthCheck)
        )
    )


def test_stateful_runs_link_the_families_both_ways() -> None:
    rules = set(dir(schema.as_state_machine()))  # one method per inferred transition
    assert any(name.startswith("POST_sync_order___201") and "GET_async_order_item_id" in name for name in rules)
    assert any(name.startswith("POST_async_order___201") and "GET_sync_order_item_id" in name for name in rules)
