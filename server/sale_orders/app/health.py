"""Liveness apart from readiness: whether the process serves, and whether the database answers.

- `/health/live`: 200 while the process serves; asks nothing of the database. A load balancer routes by it: in a
  failover every API host stays in rotation and answers the API's own fast, retryable 503, instead of being taken
  out all at once and leaving the client the balancer's 503.
- `/health`: readiness, 200 when the database answers a query, 503 otherwise. It asks
  on a connection of its own (`health_engine`), never one of the families' pools: when the pools are taken (many
  clients waiting on one hot row, a burst), it still says whether the database answers, instead of queueing
  behind the requests and reporting the queue as an outage.
"""

from litestar import get
from litestar.di import NamedDependency
from pydantic import BaseModel
from sqlalchemy import text
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncEngine

from sale_orders.db.drivers import ASYNCPG
from sale_orders.family.record import ASYNC
from sale_orders.settings import Settings
from sale_orders.web.problems import problem_responses

HEALTH_ENGINE_KEY = "health_db_engine"
"""The dependency, and the app state key, of /health's engine."""


class Health(BaseModel):
    status: str
    database: str


def health_engine(url: URL, settings: Settings) -> AsyncEngine:
    """An asyncpg engine of one connection, tested before each use, for /health alone (an async family's pool)."""
    engine = ASYNCPG.create_engine(
        ASYNCPG.url(url).render_as_string(hide_password=False),
        poolclass=ASYNC.pool_class,
        pool_size=1,
        max_overflow=0,
        pool_timeout=settings.pool_timeout,
        pool_pre_ping=True,  # a check must not fail once because its idle connection was closed meanwhile
        connect_args=ASYNCPG.connect_args(settings),
    )
    ASYNCPG.prepare_engine(engine, settings)
    return engine  # type: ignore[return-value]  # the asyncpg driver makes async engines


class Liveness(BaseModel):
    status: str


@get(
    "/health",
    summary="Readiness: the process and the database answer",
    description="200 when the process answers and the database answers a query; 503 otherwise. Needs no API key."
    " A load balancer should route by /health/live instead, which asks nothing of the database.",
    tags=["health"],
    responses=problem_responses([503], always=()),
)
async def health(health_db_engine: NamedDependency[AsyncEngine]) -> Health:
    """Answer 200 when a database round trip succeeds; 503 problem details otherwise (the app gives the engine)."""
    async with health_db_engine.connect() as connection:
        await connection.execute(text("SELECT 1"))
    return Health(status="ok", database="ok")


@get(
    "/health/live",
    summary="Liveness: the process serves",
    description="200 while the process serves requests; asks nothing of the database. Needs no API key.",
    tags=["health"],
    responses=problem_responses([], always=()),
)
async def health_live() -> Liveness:
    return Liveness(status="ok")


HEALTH_ROUTES = [health, health_live]
