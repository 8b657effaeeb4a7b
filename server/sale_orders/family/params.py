"""Path, query and header parameters shared by both families."""

from typing import Annotated, Any

from litestar.openapi.spec import OpenAPIType
from litestar.params import HeaderParameter, PathParameter, QueryParameter

from sale_orders.domain import limits


def _absent_when_none(wire_type: OpenAPIType) -> dict[str, Any]:
    """Publish an optional parameter as its own type: Litestar would add `null`, which no query or header can send.

    The handler sees None when the parameter is absent.
    """
    return {"one_of": None, "type": wire_type}


ItemId = Annotated[int, PathParameter(ge=1, le=limits.MAX_ID, description="the resource's id")]
After = Annotated[
    int | None,
    QueryParameter(
        ge=1,
        le=limits.MAX_ID,
        description="return items with an id greater than this: the last id of the previous page",
        schema_extra=_absent_when_none(OpenAPIType.INTEGER),
    ),
]
Limit = Annotated[
    int,
    QueryParameter(
        ge=1,
        le=limits.MAX_PAGE_SIZE,
        description=f"page size, at most {limits.MAX_PAGE_SIZE}; a shorter page is the last one",
    ),
]
IdempotencyKey = Annotated[
    str | None,
    HeaderParameter(
        name="Idempotency-Key",
        min_length=1,
        max_length=limits.IDEMPOTENCY_KEY_LENGTH,
        pattern=r"^[!-~]+$",
        description=(
            "makes a create safe to retry: a retry with the same key and body answers 201 with the object created "
            "first and creates nothing; the same key with another body is a 422. Keys are shared by both families."
        ),
        schema_extra=_absent_when_none(OpenAPIType.STRING),
    ),
]
