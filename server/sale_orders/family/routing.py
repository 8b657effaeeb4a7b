"""Route decorators that differ by family, documenting the problem responses of each operation.

This is where `def` handlers are sent to the thread pool: the sync family's decorators pass
`sync_to_thread=True`; the async family's run handlers on the event loop.
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from litestar import MediaType, delete, get, patch, post
from litestar.di import NamedDependency, Provide
from litestar.openapi import ResponseSpec
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED, HTTP_204_NO_CONTENT
from litestar.types import Dependencies

from sale_orders.api.problems import problem_responses

_FULFILLED = "Request fulfilled, document follows"  # Litestar's own description of a success


@dataclass(frozen=True)
class Family:
    """One family of routes: its path prefix and how its handlers run."""

    name: str
    sync_to_thread: bool | None

    @property
    def path(self) -> str:
        return f"/{self.name}"

    def _options(self, summary: str, problems: Iterable[int], encoded: Any, status: int) -> dict[str, Any]:
        """Options of a route; `encoded` is the type whose JSON the handler returns already encoded, as bytes.

        The contract then documents that type, exactly as if the handler returned it to be serialised.
        """
        responses = problem_responses(problems)
        options = {"summary": summary, "sync_to_thread": self.sync_to_thread, "responses": responses}
        if encoded is not None:
            responses[status] = ResponseSpec(data_container=encoded, description=_FULFILLED, generate_examples=False)
            options["media_type"] = MediaType.JSON
        return options

    def get(self, path: str, *, summary: str, problems: Iterable[int] = (), encoded: Any = None) -> get:
        return get(path, **self._options(summary, problems, encoded, HTTP_200_OK))

    def post(self, path: str, *, summary: str, problems: Iterable[int] = (), encoded: Any = None) -> post:
        return post(path, **self._options(summary, [413, *problems], encoded, HTTP_201_CREATED))

    def patch(self, path: str, *, summary: str, problems: Iterable[int] = (), encoded: Any = None) -> patch:
        return patch(path, **self._options(summary, [413, *problems], encoded, HTTP_200_OK))

    def delete(self, path: str, *, summary: str, problems: Iterable[int] = ()) -> delete:
        return delete(path, **self._options(summary, problems, None, HTTP_204_NO_CONTENT))


ASYNC = Family("async", sync_to_thread=None)
SYNC = Family("sync", sync_to_thread=True)


def inject_service(service: Callable[[Any], object]) -> Dependencies:
    """A controller's dependencies: its `service`, built on the family's database session of the request."""

    def provide_service(db_session: NamedDependency[Any]) -> object:
        return service(db_session)

    return {"service": Provide(provide_service, sync_to_thread=False)}
