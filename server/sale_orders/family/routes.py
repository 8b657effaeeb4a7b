"""A family's route decorators: where `def` handlers are sent to the thread pool, and what every operation documents.

`@routes.post(ASYNC, "/", ...)` is Litestar's `@post` with the family's `sync_to_thread` (True for the sync family:
Litestar runs the handler in its thread pool; None for the async family: on the event loop), the problem responses
the operation may answer, and, for a body, the one-pass JSON validation of `web/bodies.py`.
"""

from collections.abc import Iterable
from typing import Any

from litestar import delete as litestar_delete
from litestar import get as litestar_get
from litestar import patch as litestar_patch
from litestar import post as litestar_post
from litestar.datastructures import ResponseHeader

from sale_orders.family.record import Family
from sale_orders.web.bodies import JSONBodyDTO
from sale_orders.web.encoded import CONSISTENCY_TOKEN
from sale_orders.web.problems import problem_responses
from sale_orders.web.row_gate import ROW_GATE

# Every operation of a family may answer these once API keys are configured (sale_orders.web.auth).
AUTH_PROBLEMS = (401, 403)
# A body that is too large, or not JSON.
BODY_PROBLEMS = (413, 415)
# Every change may collide with a concurrent change of the same rows: a retryable 409 (`concurrent-change`).
CHANGE_PROBLEMS = (409,)
# A body handler's request DTO; responses are encoded by the services (`EncodedJSON`), with no DTO.
BODY: dict[str, Any] = {"dto": JSONBodyDTO, "return_dto": None}
# Every 201 says where the new resource is (set by `EncodedJSON.created`).
LOCATION = ResponseHeader(
    name="Location",
    description="the new resource's URL, in the family that created it (e.g. `/sync/order/7`)",
    documentation_only=True,
    required=True,
)
# Every write answers its consistency token (web/encoded.py), which a client sends with its reads.
WRITTEN_TOKEN = ResponseHeader(
    name=CONSISTENCY_TOKEN,
    description="this write's consistency token: send the newest one with later reads (the `Consistency-Token`"
    " request header) to read your own writes from any host; the SDK does",
    documentation_only=True,
    required=True,
)


def _options(family: Family, summary: str, description: str, problems: Iterable[int]) -> dict[str, Any]:
    return {
        "summary": summary,
        "description": description,
        "sync_to_thread": family.sync_to_thread,
        "responses": problem_responses([*AUTH_PROBLEMS, *problems]),
    }


def get(family: Family, path: str, *, summary: str, description: str, problems: Iterable[int] = ()) -> litestar_get:
    """A read."""
    return litestar_get(path, **_options(family, summary, description, problems))


def post(family: Family, path: str, *, summary: str, description: str, problems: Iterable[int] = ()) -> litestar_post:
    """A create: 201 with the new resource and its URL in `Location`."""
    options = _options(family, summary, description, [*BODY_PROBLEMS, *CHANGE_PROBLEMS, *problems])
    return litestar_post(path, **options, **BODY, response_headers=[LOCATION, WRITTEN_TOKEN])


def patch(family: Family, path: str, *, summary: str, description: str, problems: Iterable[int] = ()) -> litestar_patch:
    """A change of one row: it waits for its turn with other changes of the row (web/row_gate.py)."""
    options = _options(family, summary, description, [*BODY_PROBLEMS, *CHANGE_PROBLEMS, *problems])
    return litestar_patch(path, **options, **BODY, middleware=[ROW_GATE], response_headers=[WRITTEN_TOKEN])


def delete(
    family: Family, path: str, *, summary: str, description: str, problems: Iterable[int] = ()
) -> litestar_delete:
    """A delete of one row: it waits for its turn with other changes of the row (web/row_gate.py)."""
    options = _options(family, summary, description, [*CHANGE_PROBLEMS, *problems])
    return litestar_delete(path, **options, middleware=[ROW_GATE], response_headers=[WRITTEN_TOKEN])
