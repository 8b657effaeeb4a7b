"""RFC 9457 problem details: the body of every error, how each failure maps onto one, and its documentation.

The domain raises plain exceptions (`sale_orders.domain.errors`); this module, at the HTTP edge, gives each
its status and `type`, and turns framework and database failures into problems too, so a client never sees
SQL, a driver message or a traceback.
"""

import logging
from collections.abc import Callable, Iterable
from http import HTTPStatus
from typing import Any, cast

from litestar import Request, Response
from litestar.exceptions import HTTPException, ValidationException
from litestar.openapi import ResponseSpec
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR
from litestar.types import Send
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from sqlmodel import Field, SQLModel

from sale_orders.db.errors import Failure, classify, sqlstate
from sale_orders.domain import limits
from sale_orders.domain.errors import (
    ConflictError,
    DomainError,
    KeyInProgressError,
    KeyReusedError,
    MissingReferenceError,
    NotFoundError,
)

log = logging.getLogger(__name__)


class BusyError(Exception):
    """The server could not start on the request in time (no thread came free): a 503, nothing was done."""


class ContendedError(Exception):
    """Other requests held the rows this one needs for too long: a retryable 409, nothing was done."""


class ShedError(Exception):
    """The request's family already serves `MAX_IN_FLIGHT` requests (`web/admission.py`): a 503 `busy`.

    Args:
        detail: what the problem's `detail` says.
        retry_after: the seconds its `Retry-After` says.
    """

    def __init__(self, detail: str, retry_after: int) -> None:
        super().__init__(detail)
        self.retry_after = retry_after


PROBLEM_JSON = "application/problem+json"
PROBLEM_TYPE_PREFIX = "urn:sale-orders:problem:"


class FieldError(SQLModel):
    """One invalid value in a request."""

    loc: str = Field(description="where the value was: body field path, query or path parameter name")
    message: str


class ProblemDetails(SQLModel):
    """RFC 9457 problem details: every error this API answers has this body."""

    type: str = Field(description="a URN naming the kind of problem, stable across versions")
    title: str = Field(description="a short summary of the kind of problem")
    status: int = Field(description="the HTTP status code")
    detail: str = Field(description="what went wrong with this request, for a person to act on")
    errors: list[FieldError] | None = Field(default=None, description="the invalid values, for validation errors")


# status -> (type, title) of the problem; the `type` is the stable part a client may branch on.
KINDS: dict[int, tuple[str, str]] = {
    400: ("validation-error", "The request is not valid"),
    401: ("unauthorized", "An API key is required"),
    403: ("forbidden", "The API key may not do this"),
    404: ("not-found", "No such resource"),
    405: ("method-not-allowed", HTTPStatus(405).phrase),
    409: ("conflict", "The request conflicts with the stored data"),
    413: ("too-large", HTTPStatus(413).phrase),
    415: ("unsupported-media-type", HTTPStatus(415).phrase),
    422: ("missing-reference", "The request refers to something that does not exist"),
    503: ("unavailable", "The database is unavailable; retry later"),
}
BUSY = ("busy", "The server is at its limit; retry later")
"""A family already serves as many requests as it admits at once (`web/admission.py`); nothing was done."""
BUSY_DETAIL = "this server is serving as many requests as it admits at once; nothing was done, retry"
CONCURRENT_CHANGE = ("concurrent-change", "The request collided with a concurrent change of the same data; retry")
"""The retryable 409: a deadlock, a serialization failure or a lock wait that ran out; nothing was changed."""
# The most errors a 400 lists: a body with thousands of mistakes gets a short answer, and costs little to make.
MAX_LISTED_ERRORS = 20
_DOMAIN: dict[type[DomainError], tuple[int, str, str]] = {
    NotFoundError: (404, *KINDS[404]),
    ConflictError: (409, *KINDS[409]),
    MissingReferenceError: (422, *KINDS[422]),
    KeyReusedError: (422, "idempotency-key-reused", "The Idempotency-Key was used for a different request"),
    KeyInProgressError: (409, "idempotency-key-in-progress", "A request with this Idempotency-Key is under way"),
}
RETRY_SOON = {"Retry-After": "1"}
# A client may retry these after a moment (RFC 9110 Retry-After, in seconds); the SDK does.
_RETRY_AFTER: dict[type[DomainError], str] = {KeyInProgressError: "1"}

# What each documented error status means, in the contract.
_DESCRIPTIONS = {
    400: "Invalid input: a value has the wrong type, is out of bounds, or is unknown",
    401: "No API key, or not a valid one (when the server is configured with API keys)",
    403: "A read-only API key on an operation that changes data",
    404: "No resource has this id",
    409: "Conflicts with stored data (a duplicate name, or still used by an order), or collided with a concurrent"
    " change of the same data (`concurrent-change` and `idempotency-key-in-progress`: nothing was changed; retry"
    " after `Retry-After`)",
    408: "The request's headers or body took longer to arrive than the server waits (HEADER_TIMEOUT, BODY_TIMEOUT)",
    413: f"The body is larger than {limits.MAX_BODY_BYTES // 1024} KiB",
    415: "The body is not JSON: send `Content-Type: application/json`",
    431: "The request line and headers are larger than the server reads (MAX_REQUEST_HEADER_BYTES)",
    422: "Refers to a contact, product or tag that does not exist, or reuses an Idempotency-Key for another request",
    503: "The database is unavailable or too slow; retry later",
}


# What the HTTP transport answers for any request, before the app sees it (web/transport.py).
TRANSPORT_PROBLEMS = (408, 431)


def problem_responses(statuses: Iterable[int], *, always: Iterable[int] = (400, 503)) -> dict[int, ResponseSpec]:
    """Document the problem-details responses an operation can give.

    `always`: by default 400 and 503; and every operation may get the transport's 408 and 431.
    """
    return {
        status: ResponseSpec(
            data_container=ProblemDetails,
            description=_DESCRIPTIONS[status],
            media_type=PROBLEM_JSON,
            generate_examples=False,
        )
        for status in sorted({*always, *statuses, *TRANSPORT_PROBLEMS})
    }


def problem_response(
    status: int,
    detail: str,
    *,
    kind: tuple[str, str] | None = None,
    errors: list[FieldError] | None = None,
    headers: dict[str, str] | None = None,
) -> Response[ProblemDetails]:
    """A problem-details response; `kind` is its (type, title), by default the status's."""
    kind_name, title = kind or KINDS.get(status, ("http-error", HTTPStatus(status).phrase))
    body = ProblemDetails(
        type=PROBLEM_TYPE_PREFIX + kind_name, title=title, status=status, detail=detail, errors=errors
    )
    return Response(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


async def send_problem(
    send: Send, status: int, kind: tuple[str, str], detail: str, headers: dict[str, str] | None = None
) -> None:
    """Answer problem details from an ASGI middleware (where Litestar's exception handlers have not yet run)."""
    body = problem_body(status, kind, detail)
    encoded = [(name.lower().encode(), value.encode()) for name, value in (headers or {}).items()]
    content = [(b"content-type", PROBLEM_JSON.encode()), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": [*content, *encoded]})
    await send({"type": "http.response.body", "body": body, "more_body": False})


def problem_body(status: int, kind: tuple[str, str], detail: str) -> bytes:
    """The JSON of a problem, for answers written outside Litestar's handlers."""
    kind_name, title = kind
    problem = ProblemDetails(type=PROBLEM_TYPE_PREFIX + kind_name, title=title, status=status, detail=detail)
    return problem.model_dump_json().encode()


def _on_domain_error(_: Request[Any, Any, Any], exc: DomainError) -> Response[ProblemDetails]:
    status, kind_name, title = _DOMAIN[type(exc)]
    retry_after = _RETRY_AFTER.get(type(exc))
    headers = None if retry_after is None else {"Retry-After": retry_after}
    return problem_response(status, str(exc), kind=(kind_name, title), headers=headers)


def _on_validation(_: Request[Any, Any, Any], exc: ValidationException) -> Response[ProblemDetails]:
    extra = [item for item in exc.extra if isinstance(item, dict)] if isinstance(exc.extra, list) else []
    errors = [
        FieldError(loc=str(item.get("key") or item.get("source") or "body"), message=str(item.get("message", "")))
        for item in extra[:MAX_LISTED_ERRORS]
    ]
    detail = "; ".join(f"{e.loc}: {e.message}" for e in errors) or str(exc.detail)
    if len(extra) > MAX_LISTED_ERRORS:
        detail += f"; and {len(extra) - MAX_LISTED_ERRORS} more errors, not listed"
    return problem_response(400, detail, errors=errors or None)


def _on_undecodable(_: Request[Any, Any, Any], __: UnicodeDecodeError) -> Response[ProblemDetails]:
    # Litestar decodes the body as UTF-8 before parsing it, and lets the error through.
    return problem_response(400, "the body is not valid UTF-8")


def _on_http(_: Request[Any, Any, Any], exc: HTTPException) -> Response[ProblemDetails]:
    # Keep the exception's headers: a 405 must say which methods are allowed (RFC 9110).
    headers = {str(name): str(value) for name, value in (exc.headers or {}).items()}
    return problem_response(exc.status_code, str(exc.detail), headers=headers)


def _contended(detail: str) -> Response[ProblemDetails]:
    return problem_response(409, detail, kind=CONCURRENT_CHANGE, headers=RETRY_SOON)


def _database_answer(exc: BaseException, method: str) -> Response[ProblemDetails] | None:
    """The answer to a database failure, by what its SQLSTATE means (`db.errors.classify`); None if unexpected."""
    failure = classify(exc)
    if failure is Failure.TOO_SLOW:
        log.warning("statement timeout: %s", type(exc).__name__)
        return problem_response(503, "the database took too long to answer; retry later", headers=RETRY_SOON)
    if failure is Failure.UNAVAILABLE:
        # The class and SQLSTATE, not the message: it may quote a statement's values.
        log.warning("database unavailable: %s (SQLSTATE %s)", type(exc).__name__, sqlstate(exc))
        return problem_response(503, "the database is unavailable or busy; retry later", headers=RETRY_SOON)
    if failure is Failure.CONTENTION and method in {"GET", "HEAD"}:
        # A read waits for a lock only behind maintenance (DDL, VACUUM FULL): the data is away for now.
        log.info("a read waited too long for a lock: %s", type(exc).__name__)
        return problem_response(503, "the data is locked by maintenance; retry later", headers=RETRY_SOON)
    if failure is Failure.CONTENTION:
        log.info("contention: %s", type(exc).__name__)
        return _contended("the request collided with a concurrent change of the same data; nothing was changed, retry")
    if failure is Failure.CONFLICT:
        # Reached only when a service did not translate the violation itself.
        log.info("integrity error mapped to 409: %s", exc)
        return problem_response(409, "the change conflicts with data changed meanwhile; reload and retry")
    return None


def _on_database(request: Request[Any, Any, Any], exc: Exception) -> Response[ProblemDetails]:
    return _database_answer(exc, request.method) or _on_unexpected(request, exc)


def _on_contended(_: Request[Any, Any, Any], exc: ContendedError) -> Response[ProblemDetails]:
    return _contended(str(exc))


def _on_busy(_: Request[Any, Any, Any], exc: BusyError) -> Response[ProblemDetails]:
    log.warning("busy: %s", exc)
    return problem_response(503, str(exc), headers=RETRY_SOON)


def _on_shed(_: Request[Any, Any, Any], exc: ShedError) -> Response[ProblemDetails]:
    return problem_response(503, str(exc), kind=BUSY, headers={"Retry-After": str(exc.retry_after)})


def _on_unexpected(request: Request[Any, Any, Any], exc: Exception) -> Response[ProblemDetails]:
    if (answer := _database_answer(exc, request.method)) is not None:
        return answer  # a driver's error that reached the app without SQLAlchemy's wrapper
    log.error("unexpected error", exc_info=exc)
    return problem_response(
        HTTP_500_INTERNAL_SERVER_ERROR, "internal error; it has been logged", kind=("internal-error", "Internal error")
    )


EXCEPTION_HANDLERS = {
    DomainError: _on_domain_error,
    ValidationException: _on_validation,
    UnicodeDecodeError: _on_undecodable,
    HTTPException: _on_http,
    DBAPIError: _on_database,
    PoolTimeoutError: _on_database,
    BusyError: _on_busy,
    ContendedError: _on_contended,
    ShedError: _on_shed,
    OSError: _on_database,
    Exception: _on_unexpected,
}


async def answer_as_handled(request: Request[Any, Any, Any], exc: Exception) -> None:
    """Answer `exc` as the app's `EXCEPTION_HANDLERS` do, from a route's middleware (`web/row_gate.py`).

    Litestar handles exceptions between a route's middleware and its handler, and around the whole app: one raised
    by the middleware itself would be answered past the metrics middleware, which would not see its status.
    """
    handler = cast(
        "Callable[[Request[Any, Any, Any], Exception], Response[ProblemDetails]]",
        next(EXCEPTION_HANDLERS[kind] for kind in type(exc).__mro__ if kind in EXCEPTION_HANDLERS),
    )
    type_encoders = request.route_handler.resolve_type_encoders()
    answer = handler(request, exc).to_asgi_response(app=None, request=request, type_encoders=type_encoders)
    await answer(request.scope, request.receive, request.send)
