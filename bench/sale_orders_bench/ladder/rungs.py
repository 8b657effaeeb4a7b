"""The ladder's rungs, by family: what each adds to the one before, and where it is served.

The last rung is not a layer: it is the thinnest path using the session as the product does (no BEGIN and
COMMIT around a single statement), so that the product's own code is what the product adds to it.

Pure data, shared by the app that serves the rungs (`sale_orders_bench.ladder.app`) and the harness that measures them.
"""

from dataclasses import dataclass

from sale_orders.features import ORDER, SUMMARIES, Feature

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


@dataclass(frozen=True)
class FeatureRung:
    """One step of the product's own part of the ladder: the product served with `features` (`FEATURES`).

    The ladder app's rungs run without any feature; these continue from its `autocommit` rung: first the product's
    core, then each feature of `sale_orders.features` added in turn, up to the product as it ships (every feature),
    and beyond it the product with API keys configured.
    """

    name: str
    features: str  # the FEATURES its server runs with
    adds: str
    families: frozenset[str] = frozenset(("async", "sync"))  # where it changes anything
    api_keys: bool = False  # served with API_KEYS set, every request sending its key

    @property
    def layer(self) -> str:
        return OPTIONAL if self.api_keys else (CORE if self.name == CORE_RUNG else FEATURES)


CORE_RUNG = "core"
CORE = "the product's core"
FEATURES = "production features"
OPTIONAL = "optional: API keys"
# Which families each feature changes anything in (a feature of one family only is a step of that family's ladder).
_FAMILIES = {Feature.FAIR_POOL: frozenset(("async",)), Feature.THREAD_QUEUE_BOUND: frozenset(("sync",))}


def _feature_rungs() -> tuple[FeatureRung, ...]:
    core = FeatureRung(
        CORE_RUNG,
        "none",
        "the product with `FEATURES=none`",
    )
    added = tuple(
        FeatureRung(
            feature.value,
            ",".join(ORDER[: index + 1]),
            f"+ `{feature.value}`: {SUMMARIES[feature]}",
            _FAMILIES.get(feature, frozenset(("async", "sync"))),
        )
        for index, feature in enumerate(ORDER[:-1])  # the last feature added is the product itself
    )
    return (core, *added)


FEATURE_RUNGS = _feature_rungs()
"""Before the product, in the order they are measured."""
LAST_FEATURE = ORDER[-1]
"""What the product adds to the last feature rung."""
API_KEYS_RUNG = FeatureRung(
    "api-keys", "all", "+ API keys configured (`API_KEYS`): every request's key checked", api_keys=True
)
"""After the product."""
