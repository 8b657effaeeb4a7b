"""Problems the API reports, as RFC 9457 problem details, and the mapping of every failure onto them.

Handlers raise `Problem`s; database and framework errors are translated here, once, for both families and
both drivers, so a client never sees SQL, a driver message or a traceback.
"""

import logging
from http import HTTPStatus
from typing import Any, ClassVar

from advanced_alchemy.exceptions import NotFoundError
from litestar import Request, Response
from litestar.exceptions import HTTPException, ValidationException
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR
from pydantic import BaseModel, Field
from sqlalchemy.exc import DBAPIError, IntegrityError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError

log = logging.getLogger(__name__)

PROBLEM_JSON = "application/problem+json"
PROBLEM_TYPE_PREFIX = "urn:sale-orders:problem:"


class FieldError(BaseModel):
    """One invalid value in a request."""

    loc: str = Field(description="where the value was: body field path, query or path parameter name")
    message: str


class ProblemDetails(BaseModel):
    """RFC 9457 problem details: every error this API answers has this body."""

    type: str = Field(description="a URN naming the kind of problem, stable across versions")
    title: str = Field(description="a short summary of the kind of problem")
    status: int = Field(description="the HTTP status code")
    detail: str = Field(description="what went wrong with this request, for a person to act on")
    errors: list[FieldError] | None = Field(default=None, description="the invalid values, for validation errors")


class Problem(Exception):  # noqa: N818 - it is what the API answers, not an internal error
    """A failure to report to the client as problem details."""

    status: ClassVar[int]
    kind: ClassVar[str]
    title: ClassVar[str]

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class InvalidInput(Problem):
    status, kind, title = 400, "validation-error", "The request is not valid"


class NotFound(Problem):
    status, kind, title = 404, "not-found", "No such resource"


class Conflict(Problem):
    status, kind, title = 409, "conflict", "The request conflicts with the stored data"


class MissingReference(Problem):
    status, kind, title = 422, "missing-reference", "The request refers to something that does not exist"


class KeyReused(Problem):
    status, kind, title = 422, "idempotency-key-reused", "The Idempotency-Key was used for a different request"


class Unavailable(Problem):
    status, kind, title = 503, "unavailable", "The database is unavailable; retry later"


_TITLES = {
    cls.status: (cls.kind, cls.title) for cls in (InvalidInput, NotFound, Conflict, MissingReference, Unavailable)
}


def problem_response(  # noqa: PLR0913 - keyword-only parts of one response
    status: int,
    detail: str,
    *,
    kind: str | None = None,
    title: str | None = None,
    errors: list[FieldError] | None = None,
    headers: dict[str, str] | None = None,
) -> Response[ProblemDetails]:
    """Build a problem-details response."""
    default_kind, default_title = _TITLES.get(status, ("http-error", HTTPStatus(status).phrase))
    body = ProblemDetails(
        type=PROBLEM_TYPE_PREFIX + (kind or default_kind),
        title=title or default_title,
        status=status,
        detail=detail,
        errors=errors,
    )
    return Response(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def _on_problem(_: Request[Any, Any, Any], exc: Problem) -> Response[ProblemDetails]:
    return problem_response(exc.status, exc.detail, kind=exc.kind, title=exc.title)


def _on_validation(_: Request[Any, Any, Any], exc: ValidationException) -> Response[ProblemDetails]:
    extra = exc.extra if isinstance(exc.extra, list) else []
    errors = [
        FieldError(loc=str(item.get("key") or item.get("source") or "body"), message=str(item.get("message", "")))
        for item in extra
        if isinstance(item, dict)
    ]
    detail = "; ".join(f"{e.loc}: {e.message}" for e in errors) or str(exc.detail)
    return problem_response(400, detail, errors=errors or None)


def _on_undecodable(_: Request[Any, Any, Any], __: UnicodeDecodeError) -> Response[ProblemDetails]:
    # Litestar decodes the body as UTF-8 before parsing it, and lets the error through.
    return problem_response(400, "the body is not valid UTF-8")


def _on_http(_: Request[Any, Any, Any], exc: HTTPException) -> Response[ProblemDetails]:
    kind = {
        400: "validation-error",
        404: "not-found",
        405: "method-not-allowed",
        413: "too-large",
        415: "unsupported-media-type",
    }
    # Keep the exception's headers: a 405 must say which methods are allowed (RFC 9110).
    headers = {str(name): str(value) for name, value in (exc.headers or {}).items()}
    return problem_response(
        exc.status_code, str(exc.detail), kind=kind.get(exc.status_code, "http-error"), headers=headers
    )


def _on_not_found(_: Request[Any, Any, Any], __: NotFoundError) -> Response[ProblemDetails]:
    return problem_response(404, "no such resource")


def _on_integrity(_: Request[Any, Any, Any], exc: IntegrityError) -> Response[ProblemDetails]:
    # Reached only when a service did not translate the violation itself (e.g. a concurrent delete).
    log.info("integrity error mapped to 409: %s", exc.orig)
    return problem_response(409, "the change conflicts with data changed meanwhile; reload and retry")


QUERY_CANCELED = "57014"  # SQLSTATE of a statement cancelled by statement_timeout


def _sqlstate(exc: BaseException) -> str | None:
    """The SQLSTATE of a database error, whichever driver raised it."""
    original = getattr(exc, "orig", None)
    return getattr(original, "pgcode", None) or getattr(original, "sqlstate", None)


def _on_database(_: Request[Any, Any, Any], exc: Exception) -> Response[ProblemDetails]:
    """Unreachable, overloaded or too slow database: 503.

    psycopg2 reports a refused connection as OperationalError, asyncpg as a plain OSError; a full pool is
    SQLAlchemy's TimeoutError; statement_timeout is SQLSTATE 57014 from either driver.
    """
    if _sqlstate(exc) == QUERY_CANCELED:
        log.warning("statement timeout: %s", type(exc).__name__)
        return problem_response(503, "the database took too long to answer; retry later")
    unavailable = (OperationalError, InterfaceError, PoolTimeoutError, OSError)
    if isinstance(exc, unavailable) or getattr(exc, "connection_invalidated", False):
        log.warning("database unavailable: %s: %s", type(exc).__name__, exc)
        return problem_response(503, "the database is unavailable or busy; retry later")
    return _on_unexpected(_, exc)


def _on_unexpected(_: Request[Any, Any, Any], exc: Exception) -> Response[ProblemDetails]:
    log.error("unexpected error", exc_info=exc)
    return problem_response(
        HTTP_500_INTERNAL_SERVER_ERROR,
        "internal error; it has been logged",
        kind="internal-error",
        title="Internal error",
    )


EXCEPTION_HANDLERS = {
    Problem: _on_problem,
    ValidationException: _on_validation,
    UnicodeDecodeError: _on_undecodable,
    HTTPException: _on_http,
    NotFoundError: _on_not_found,
    IntegrityError: _on_integrity,
    DBAPIError: _on_database,
    PoolTimeoutError: _on_database,
    OSError: _on_database,
    Exception: _on_unexpected,
}
