"""The product's features above its core, each of which `FEATURES` can leave out, for the benchmark ladder only.

The core is what every request needs to be answered at all: the families' routes, sessions, services, schemas,
SQL and the one-pass body decoding. Each feature below is something production asks for on top, with a cost on
every request; `sale-orders bench ladder` serves the product once per feature, adding them in this order, and
publishes what each one costs (docs/benchmarks.md). A real deployment keeps `FEATURES=all` (the default): leaving
one out removes a promise (a deadline, a fair queue, a 400 for an ambiguous request, a metric, the admission bound).

Features that cost nothing on a request that succeeds are not listed: the problem-details handlers (looked up
only when a handler raises) and the API-key check (on only when `API_KEYS` is set; the ladder measures it beside
the product).
"""

from enum import StrEnum


class Feature(StrEnum):
    """One feature of the product, named as `FEATURES` takes it."""

    DEADLINES = "deadlines"
    """A bound on how long each driver waits for PostgreSQL: psycopg2's deadline (`db/deadline.py`), asyncpg's
    `command_timeout` and connect `timeout` (`db/drivers.py`)."""
    FAIR_POOL = "fair-pool"
    """The async family's first-come-first-served pool (`family/runtime/pools.py`); else SQLAlchemy's own."""
    THREAD_QUEUE_BOUND = "thread-queue-bound"
    """The sync family's thread pool refuses a call that waited POOL_TIMEOUT (`family/runtime/threads.py`); else a
    plain `ThreadPoolExecutor` of the same size."""
    UNAMBIGUOUS = "unambiguous"
    """Repeated parameters and headers, non-plain ids and non-JSON bodies refused early (`web/unambiguous.py`)."""
    EDGE = "edge"
    """Request ids, security and `Allow` headers, `HEAD` as `GET`, and errors outside a handler as problem details
    (`web/edge.py`, `web/headers.py`)."""
    METRICS = "metrics"
    """/metrics and its request middleware (`web/metrics.py`)."""
    ADMISSION = "admission"
    """At most MAX_IN_FLIGHT requests per family and worker; the next one a 503 at once (`web/admission.py`)."""


SUMMARIES = {
    Feature.DEADLINES: "psycopg2's deadline, asyncpg's timeouts",
    Feature.FAIR_POOL: "the async pool serves waiters in order",
    Feature.THREAD_QUEUE_BOUND: "a call that waited POOL_TIMEOUT for a thread is refused",
    Feature.UNAMBIGUOUS: "ambiguous requests refused before the handler",
    Feature.EDGE: "request ids, security headers, HEAD, errors outside handlers as problems",
    Feature.METRICS: "Prometheus middleware and /metrics",
    Feature.ADMISSION: "at most MAX_IN_FLIGHT requests per family",
}
"""Each feature in a few words, for tables."""
ALL = frozenset(Feature)
ORDER = tuple(Feature)
"""The order the ladder adds them in: what the database driver does first, the web edge last."""


def parse_features(text: str) -> frozenset[Feature]:
    """`all`, `none`, or comma-separated feature names (`deadlines,fair-pool`); unknown names are an error."""
    words = {word.strip() for word in text.split(",") if word.strip()}
    if not words:  # e.g. `FEATURES: ${FEATURES}` in a compose file with the variable unset: never "nothing"
        msg = f"FEATURES is empty: use all (the default), none, or some of {', '.join(ORDER)}"
        raise ValueError(msg)
    if words == {"all"}:
        return ALL
    if words == {"none"}:
        return frozenset()
    unknown = sorted(words - {feature.value for feature in Feature})
    if unknown:
        msg = f"unknown FEATURES {', '.join(unknown)}: use all, none, or some of {', '.join(ORDER)}"
        raise ValueError(msg)
    return frozenset(Feature(word) for word in words)
