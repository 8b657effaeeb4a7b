"""The ladder's rungs, by family: what each adds to the one before, and where it is served.

The last rung is not a layer: it is the thinnest path using the session as the product does (no BEGIN and
COMMIT around a single statement), so that the product's own code is what the product adds to it.

Pure data, shared by the app that serves the rungs (`sale_orders_bench.ladder.app`) and the harness that measures them.
"""

from dataclasses import dataclass

PREFIX = "/ladder"


@dataclass(frozen=True)
class Rung:
    """One step of the ladder: the stack of the rung before it, plus one layer."""

    name: str
    adds: dict[str, str]  # family -> what this rung adds, as a reader would say it
    layer: str  # the share of a request's time this step measures, for the plot
    needs_body: bool = False  # a step about request bodies: identical to the one before on a GET
    sync_layer: str | None = None  # when the sync family's step measures more than `layer`
    beyond_thinnest: bool = False  # a way of using the stack better than its thinnest path, not a layer of it

    def prefix(self, family: str) -> str:
        return f"{PREFIX}/{family}/{self.name}"

    def layer_of(self, family: str) -> str:
        return self.sync_layer if family == "sync" and self.sync_layer else self.layer


RUNGS = (
    Rung(
        "litestar",
        {
            "async": "Litestar `async def`, msgspec body, raw asyncpg",
            "sync": "Litestar `def` in the thread pool, msgspec body, raw psycopg2 pool",
        },
        layer="framework",
        # Its ceiling is async: the step also holds the thread hop and the other driver.
        sync_layer="framework, thread pool and psycopg2",
    ),
    Rung(
        "sqlalchemy",
        {"async": "+ SQLAlchemy `AsyncConnection` (autocommit)", "sync": "+ SQLAlchemy `Connection` (autocommit)"},
        layer="SQLAlchemy execution",
    ),
    Rung(
        "session",
        {
            "async": "+ SQLModel `AsyncSession` and `session.begin()`",
            "sync": "+ SQLModel `Session` and `session.begin()`",
        },
        layer="session and transaction",
    ),
    Rung(
        "pydantic",
        dict.fromkeys(("async", "sync"), "+ pydantic body and response (plain types)"),
        layer="validation: pydantic",
        needs_body=True,
    ),
    Rung(
        "schema",
        dict.fromkeys(("async", "sync"), "+ the product's schemas (e-mail check, exact money, bounds)"),
        layer="validation: field types",
        needs_body=True,
    ),
    Rung(
        "autocommit",
        {
            "async": "the thinnest path, the product's way: one statement in autocommit on the `AsyncSession`",
            "sync": "the thinnest path, the product's way: one statement in autocommit on the `Session`",
        },
        layer="session and transaction",
        beyond_thinnest=True,
    ),
)
BY_NAME = {rung.name: rung for rung in RUNGS}


def rungs_for(has_body: bool) -> tuple[Rung, ...]:
    """The rungs that differ from one another on an endpoint with (or without) a request body."""
    return tuple(rung for rung in RUNGS if has_body or not rung.needs_body)
