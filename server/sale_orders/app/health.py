"""Liveness and readiness in one endpoint: the process answers, and the database answers a query."""

from litestar import get
from litestar.di import NamedDependency
from pydantic import BaseModel
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from sale_orders.web.problems import problem_responses


class Health(BaseModel):
    status: str
    database: str


@get(
    "/health",
    summary="Liveness and database readiness",
    description="200 when the process answers and the database answers a query; 503 otherwise. Needs no API key.",
    tags=["health"],
    responses=problem_responses([503], always=()),
)
async def health(health_db_engine: NamedDependency[AsyncEngine]) -> Health:
    """Answer 200 when a database round trip succeeds; 503 problem details otherwise (the app gives the engine)."""
    async with health_db_engine.connect() as connection:
        await connection.execute(text("SELECT 1"))
    return Health(status="ok", database="ok")
