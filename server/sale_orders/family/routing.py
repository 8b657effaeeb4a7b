"""Route decorators that differ by family, documenting the problem responses of each operation.

This is where `def` handlers are sent to the thread pool: the sync family's decorators pass
`sync_to_thread=True`; the async family's run handlers on the event loop. Both validate a POST or PATCH body
in one pass from its JSON bytes (`OnePassDTO`).
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from litestar import delete, get, patch, post
from litestar.di import NamedDependency, Provide
from litestar.types import Dependencies

from sale_orders.api.bodies import OnePassDTO
from sale_orders.api.problems import problem_responses

# Every operation of a family may answer these once API keys are configured (sale_orders.api.auth).
AUTH_PROBLEMS = (401, 403)
# A body handler's request DTO; responses are encoded by the services (`EncodedJSON`), with no DTO.
BODY: dict[str, Any] = {"dto": OnePassDTO, "return_dto": None}


@dataclass(frozen=True)
class Family:
    """One family of routes: its path prefix and how its handlers run."""

    name: str
    sync_to_thread: bool | None

    @property
    def path(self) -> str:
        return f"/{self.name}"

    def _options(self, summary: str, problems: Iterable[int]) -> dict[str, Any]:
        responses = problem_responses([*AUTH_PROBLEMS, *problems])
        return {"summary": summary, "sync_to_thread": self.sync_to_thread, "responses": responses}

    def get(self, path: str, *, summary: str, problems: Iterable[int] = ()) -> get:
        return get(path, **self._options(summary, problems))

    def post(self, path: str, *, summary: str, problems: Iterable[int] = ()) -> post:
        return post(path, **self._options(summary, [413, *problems]), **BODY)

    def patch(self, path: str, *, summary: str, problems: Iterable[int] = ()) -> patch:
        return patch(path, **self._options(summary, [413, *problems]), **BODY)

    def delete(self, path: str, *, summary: str, problems: Iterable[int] = ()) -> delete:
        return delete(path, **self._options(summary, problems))


ASYNC = Family("async", sync_to_thread=None)
SYNC = Family("sync", sync_to_thread=True)


def inject_service(service: Callable[[Any], object]) -> Dependencies:
    """A controller's dependencies: its `service`, built on the family's database session of the request."""

    def provide_service(db_session: NamedDependency[Any]) -> object:
        return service(db_session)

    return {"service": Provide(provide_service, sync_to_thread=False)}
