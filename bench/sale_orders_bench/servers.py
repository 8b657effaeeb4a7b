"""What a benchmark runs against: the API, the ceiling and the ladder as child servers (the shared harness)."""

import contextlib
import hashlib
import os
import secrets
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from pathlib import Path

from sqlalchemy.engine import URL

from sale_orders.cli import serve
from sale_orders.db.drivers import libpq_dsn as dsn
from sale_orders_bench.ladder.rungs import API_KEYS_RUNG, FEATURE_RUNGS
from sale_orders_tools.harness import servers
from sale_orders_tools.harness.servers import ServerProcess, ServerStartError, clean_env, free_port

PACKAGE = Path(__file__).resolve().parent
REPO = PACKAGE.parents[1]
"""The repository's root: the servers run there, so they read its `.env` as `serve` would."""
WRK_AUTHORIZATION = "WRK_AUTHORIZATION"
"""The environment variable whose value wrk sends as every request's Authorization header."""
RESULTS = PACKAGE.parent / "results"
"""bench/results: where a run writes by default (git-ignored)."""


def server_env(url: URL, **extra: str) -> dict[str, str]:
    """The servers' environment: never the developer's own database settings, DATABASE_URL = `url` instead."""
    # API_KEYS empty: a developer's keys (in .env or the shell) would make every benchmark request a 401.
    return clean_env(**{"DATABASE_URL": url.render_as_string(hide_password=False), "API_KEYS": "", **extra})


@contextmanager
def api_server(url: URL, workers: int, logs: Path, **settings: str) -> Iterator[ServerProcess]:
    """`sale-orders serve` on a free port, over the database at `url`, with `settings` in its environment."""
    # No access log, as the ceiling, which logs warnings only.
    options = ["--workers", str(workers), "--no-access-log"]
    server = servers.start_serve(log_dir=logs, env=server_env(url, **settings), cwd=REPO, options=options)
    try:
        yield server
    finally:
        server.stop()


def serve_defaults() -> list[str]:
    """`serve`'s default `--loop` and `--http`, as uvicorn options (none for a `serve` without them)."""
    defaults = {param.name: param.default for param in serve.params}
    return [f"--{name}={defaults[name]}" for name in ("loop", "http") if defaults.get(name)]


@contextmanager
def uvicorn_server(
    app: str, name: str, url: URL, workers: int, logs: Path, *options: str, **extra_env: str
) -> Iterator[ServerProcess]:
    """A benchmark-only app of this package under uvicorn on a free port, with as many workers as the API.

    With the event loop and HTTP parser `sale-orders serve` uses by default, so the API, the ceiling and the
    ladder run under the same server settings.
    """
    port = free_port()
    command = [
        sys.executable,
        "-m",
        "uvicorn",
        app,
        *serve_defaults(),
        *options,
        "--host=127.0.0.1",
        f"--port={port}",
        f"--workers={workers}",
        "--no-access-log",
    ]
    server = servers.start(
        command, port=port, log=logs / f"{name}-{port}.log", env=server_env(url, **extra_env), cwd=REPO, name=name
    )
    try:
        yield server
    finally:
        server.stop()


@contextmanager
def ceiling_server(url: URL, workers: int, pool_size: int, logs: Path) -> Iterator[ServerProcess]:
    """`ceiling`: the same SQL on raw asyncpg, no framework."""
    env = {"CEILING_DATABASE_URL": dsn(url), "CEILING_POOL_SIZE": str(pool_size)}
    with uvicorn_server(
        "sale_orders_bench.ceiling:app", "ceiling", url, workers, logs, "--log-level=warning", **env
    ) as server:
        yield server


@contextmanager
def ladder_server(url: URL, workers: int, logs: Path) -> Iterator[ServerProcess]:
    """`ladder`: every rung from bare Litestar to the thinnest path, configured as the API (DATABASE_URL...)."""
    with uvicorn_server("sale_orders_bench.ladder.app:create_app", "ladder", url, workers, logs, "--factory") as server:
        yield server


@contextmanager
def feature_servers(url: URL, workers: int, logs: Path) -> Iterator[dict[str, ServerProcess]]:
    """The product once per feature rung of the ladder (`ladder.rungs`), by rung name; the API-key rung with a key.

    Started side by side (each takes seconds to start); stopped by PID when the block ends. While they serve,
    every wrk run sends the key (`WRK_AUTHORIZATION`, read by lua/common.lua); servers without API_KEYS ignore it.
    """
    key = secrets.token_urlsafe(32)
    digest = hashlib.sha256(key.encode()).hexdigest()
    settings = {rung.name: {"FEATURES": rung.features} for rung in FEATURE_RUNGS}
    settings[API_KEYS_RUNG.name] = {"FEATURES": API_KEYS_RUNG.features, "API_KEYS": f"write:{digest}"}
    options = ["--workers", str(workers), "--no-access-log"]

    def start(extra: dict[str, str]) -> ServerProcess:
        return servers.start_serve(log_dir=logs, env=server_env(url, **extra), cwd=REPO, options=options)

    with ExitStack() as stack, ThreadPoolExecutor(len(settings)) as starting:
        futures = {name: starting.submit(start, extra) for name, extra in settings.items()}
        served: dict[str, ServerProcess] = {}
        for name, future in futures.items():
            with contextlib.suppress(ServerStartError):  # raised below, once every started one will be stopped
                served[name] = future.result()
                stack.callback(served[name].stop)
        for future in futures.values():
            future.result()  # the first start that failed, if any
        stack.callback(_restore_env, WRK_AUTHORIZATION, os.environ.get(WRK_AUTHORIZATION))
        os.environ[WRK_AUTHORIZATION] = f"Bearer {key}"
        yield served


def _restore_env(name: str, value: str | None) -> None:
    if value is None:
        os.environ.pop(name, None)
    else:
        os.environ[name] = value
