"""What Litestar injects into a family's controllers: a service on the request's session of that family.

`db_session` is the family router's dependency (advanced-alchemy's session of that family, `app/__init__.py`); the
idempotency window and the family's standby come from the app's state, a reserved argument rather than more
dependencies: Litestar resolves two dependencies of one level in an anyio task group, which cost every request
10-25 % (`bench ab`).
"""

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from litestar.datastructures import State
from litestar.di import NamedDependency, Provide
from litestar.types import Dependencies

from sale_orders.family.reads import StandbyReads
from sale_orders.family.record import Family

IDEMPOTENCY_WINDOW_STATE_KEY = "idempotency_window"
"""The app state key of how long an Idempotency-Key is remembered (`create_app` puts the setting there)."""


def provide_service(family: Family, service: Callable[[Any, timedelta, StandbyReads], object]) -> Dependencies:
    """A controller's dependencies: its `service`, on `family`'s session of the request and the app's state."""
    reads_key = family.reads_state_key

    def provide(db_session: NamedDependency[Any], state: State) -> object:
        return service(db_session, state[IDEMPOTENCY_WINDOW_STATE_KEY], state[reads_key])

    return {"service": Provide(provide, sync_to_thread=False)}
