"""Path, query and header parameters shared by both families (`...Header`: a request header)."""

from typing import Annotated

from litestar.openapi.spec import OpenAPIType
from litestar.params import HeaderParameter, PathParameter, QueryParameter

from sale_orders.domain import limits

ItemId = Annotated[int, PathParameter(ge=1, le=limits.MAX_ID, description="the resource's id")]
After = Annotated[
    int,
    QueryParameter(
        ge=0,
        le=limits.MAX_ID,
        description="return items with an id greater than this: the last id of the previous page; 0 for the first",
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
IdempotencyKeyHeader = Annotated[
    str | None,
    HeaderParameter(
        name="Idempotency-Key",
        min_length=1,
        max_length=limits.IDEMPOTENCY_KEY_LENGTH,
        # Printable ASCII but the comma, which would join two keys given in one header (RFC 9110 5.3).
        pattern=r"^[!-+\--~]+$",
        description=(
            "makes a create safe to retry: a retry with the same key and body answers 201 with the object created "
            "first and creates nothing; the same key with another body is a 422. Keys are shared by both families. "
            "Printable ASCII without spaces or commas; given twice, a 400."
        ),
        # None means absent: published as a string, since Litestar would add a `null` no header can carry.
        schema_extra={"one_of": None, "type": OpenAPIType.STRING},
    ),
]
ConsistencyTokenHeader = Annotated[
    str | None,
    HeaderParameter(
        name="Consistency-Token",
        pattern=r"^(0|[1-9][0-9]{0,17})$",
        description=(
            "read-your-writes: the newest `Consistency-Token` this client's writes were answered with. A standby "
            "answers the read only once it has every transaction up to it, otherwise the primary does; without it a "
            "standby may answer if it is at most MAX_STALENESS_MS behind. The SDK sends it by itself. Given twice,"
            " a 400."
        ),
        schema_extra={"one_of": None, "type": OpenAPIType.STRING},
    ),
]
