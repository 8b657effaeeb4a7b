"""The `sale-orders` command: serve the API, migrate the database, fill it with demo data, export contracts."""

import ipaddress
import logging
import logging.config
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType

import click
from sqlalchemy.engine import URL

from sale_orders.logs import logging_config
from sale_orders.settings import Settings

log = logging.getLogger("sale_orders.cli")


def _exit_on_sigterm(signum: int, _frame: FrameType | None) -> None:
    raise SystemExit(128 + signum)


@contextmanager
def database(settings: Settings) -> Iterator[URL]:
    """The configured server, or an embedded one started now and stopped when the block ends."""
    if settings.configured_url is not None:
        yield settings.configured_url
        return
    from sale_orders.db.embedded import embedded_postgres  # noqa: PLC0415

    # SIGTERM would otherwise end the process without stopping the embedded server.
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    log.info("starting embedded PostgreSQL in %s ...", settings.data_dir.resolve())
    with embedded_postgres(settings.data_dir) as url:
        try:
            yield url
        finally:
            log.info("stopping embedded PostgreSQL ...")


def is_loopback(host: str) -> bool:
    """Whether `host` only accepts connections from this machine (0.0.0.0 and :: accept them from anywhere)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:  # a host name: it may resolve to any interface
        return False


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """Sale Orders API: the same API as sync (`def`) and async (`async def`) handlers, over PostgreSQL.

    Configure with DATABASE_URL (or the DB_HOST/DB_PORT/DB_NAME/DB_USER/DB_PASSWORD variables) in the
    environment or a .env file; without them an embedded PostgreSQL 18 keeps its data in DATA_DIR (.data).
    API_KEYS (see `api-key`) makes every /sync and /async request need `Authorization: Bearer <key>`.
    """
    logging.config.dictConfig(logging_config(Settings().log_format))


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="interface to listen on")
@click.option("--port", default=8000, show_default=True, help="TCP port")
@click.option("--workers", default=1, show_default=True, help="worker processes")
@click.option("--reload", is_flag=True, help="restart when the code changes (development)")
@click.option(
    "--access-log/--no-access-log",
    default=True,
    show_default=True,
    help="log a line per request",
)
@click.option(
    "--http",
    type=click.Choice(["httptools", "h11"]),
    default="httptools",
    show_default=True,
    help="HTTP parser: httptools (C, fast) or h11 (pure Python, easier to step through in a debugger)",
)
@click.option(
    "--loop",
    type=click.Choice(["uvloop", "asyncio"]),
    default="uvloop",
    show_default=True,
    help="event loop: uvloop (libuv, fast) or Python's own asyncio loop (for debugging)",
)
@click.option(
    "--migrate/--no-migrate",
    default=True,
    show_default=True,
    help="apply migrations first; --no-migrate where a release step runs `db upgrade` instead",
)
def serve(  # noqa: PLR0913, PLR0917 - one parameter per option
    host: str, port: int, workers: int, reload: bool, access_log: bool, http: str, loop: str, migrate: bool
) -> None:
    """Apply migrations and serve the API (with an embedded PostgreSQL unless one is configured)."""
    import uvicorn  # noqa: PLC0415

    from sale_orders.db.migrate import upgrade  # noqa: PLC0415
    from sale_orders.tools.metrics_dir import shared_metrics_directory  # noqa: PLC0415

    settings = Settings()
    if not settings.api_key_scopes and not is_loopback(host):
        click.secho(
            f"WARNING: serving on {host} without API keys: anyone who can reach this address can change or delete"
            " every order. Set API_KEYS (`sale-orders api-key` makes a key), or bind to 127.0.0.1.",
            fg="red",
            bold=True,
            err=True,
        )
    with database(settings) as url, shared_metrics_directory(settings.prometheus_multiproc_dir, workers):
        if migrate:
            upgrade(url)
        # Workers build their app from the environment: hand them the URL of the server just chosen.
        os.environ["DATABASE_URL"] = url.render_as_string(hide_password=False)
        log.info("API on http://%s:%s/sync and /async, docs on /docs, metrics on /metrics", host, port)
        uvicorn.run(
            "sale_orders.app:create_app",
            factory=True,
            host=host,
            port=port,
            workers=workers,
            reload=reload,
            log_config=logging_config(settings.log_format),
            access_log=access_log,
            http=http,
            loop=loop,
            # uvicorn kills a worker that does not answer its ping within this; a new worker first imports
            # the app (seconds on a busy host), and uvicorn's 5 s made busy hosts restart workers in a loop.
            timeout_worker_healthcheck=30,
        )


@main.group()
def db() -> None:
    """Database schema migrations (Alembic)."""


@db.command("upgrade")
@click.option("--revision", default="head", show_default=True)
def db_upgrade(revision: str) -> None:
    """Apply migrations to the configured (or embedded) database."""
    from sale_orders.db.migrate import upgrade  # noqa: PLC0415

    with database(Settings()) as url:
        upgrade(url, revision)
    click.echo(f"database upgraded to {revision}", err=True)


@db.command("revision")
@click.option("-m", "--message", required=True, help="what the migration changes")
def db_revision(message: str) -> None:
    """Write a new migration from the difference between the models and the database."""
    from sale_orders.db.migrate import new_revision, upgrade  # noqa: PLC0415

    with database(Settings()) as url:
        upgrade(url)
        new_revision(url, message)


@main.group()
def idempotency() -> None:
    """Idempotency-Keys: each is remembered for IDEMPOTENCY_WINDOW_HOURS (24 by default)."""


@idempotency.command("purge")
@click.option("--batch-size", default=1000, show_default=True, type=click.IntRange(min=1), help="keys per transaction")
def idempotency_purge(batch_size: int) -> None:
    """Delete expired Idempotency-Keys in small transactions (no table lock); run it from cron, e.g. hourly."""
    from sale_orders.db.purge import purge_expired_idempotency_keys  # noqa: PLC0415

    settings = Settings()
    with database(settings) as url:
        purged = purge_expired_idempotency_keys(url, settings.idempotency_window, batch_size)
    click.echo(f"purged {purged} Idempotency-Keys older than {settings.idempotency_window_hours:g} h")


@main.command("demo-data")
@click.option("--orders", default=10_000, show_default=True, help="orders to add (1-5 lines and 0-3 tags each)")
@click.option("--seed", default=1, show_default=True, help="random seed: the same seed gives the same data")
def demo_data(orders: int, seed: int) -> None:
    """Fill the configured (or embedded) database with realistic demo data, fast (COPY)."""
    from rich.progress import Progress  # noqa: PLC0415

    from sale_orders.db.demo import DemoSize, load_demo_data  # noqa: PLC0415
    from sale_orders.db.migrate import upgrade  # noqa: PLC0415

    size = DemoSize.for_orders(orders)
    with database(Settings()) as url, Progress(transient=False) as progress:
        upgrade(url)
        task = progress.add_task(f"loading {orders:,} orders", total=orders)
        load_demo_data(url, size, seed=seed, progress=lambda done: progress.update(task, completed=done))
    click.echo(
        f"added {size.contacts:,} contacts, {size.products:,} products, {size.tags} tags, {orders:,} orders", err=True
    )


@main.command()
@click.option("--output", type=click.Path(path_type=Path), default=Path("contracts/openapi.json"), show_default=True)
def openapi(output: Path) -> None:
    """Write the OpenAPI contract (deterministic: the same app gives the same bytes)."""
    from sale_orders.contract import write_contract  # noqa: PLC0415

    write_contract(output)
    click.echo(f"wrote {output}", err=True)


@main.command()
@click.option("--output", type=click.Path(path_type=Path), default=Path("clients/python"), show_default=True)
def client(output: Path) -> None:
    """Regenerate the Python SDK from contracts/openapi.json (pinned generator, zero warnings allowed)."""
    from sale_orders.contract import generate_client  # noqa: PLC0415

    click.echo(generate_client(output).strip(), err=True)
    click.echo(f"wrote {output}", err=True)


@main.command(context_settings={"ignore_unknown_options": True, "allow_extra_args": True})
@click.option("--url", help="base URL of the deployment to test; default: a scratch `serve` on a free port")
@click.option("--max-examples", default=200, show_default=True, help="examples per operation")
@click.pass_context
def contract(ctx: click.Context, url: str | None, max_examples: int) -> None:
    """Run Schemathesis (schemathesis.toml) on contracts/openapi.json against a live server, one family at a time.

    Extra arguments go to `schemathesis run` (e.g. `--seed 1`, `--workers 4`, `--report junit`). With --url, a
    write key of that deployment comes from SALE_ORDERS_API_KEY (never an option: a command line is visible to
    every user of the machine); a scratch server gets a fresh key.
    """
    from sale_orders.api.auth import api_key_digest, new_api_key  # noqa: PLC0415
    from sale_orders.tools.servers import scratch_server  # noqa: PLC0415

    def run(base_url: str, key: str) -> int:
        # One run per family: Schemathesis tracks deleted resources by path, so a contact deleted through
        # /sync would look lost to a request through /async. tests/contract covers the families together.
        codes = []
        for paths in ("^/(sync/|health)", "^/async/"):
            command = [
                str(Path(sys.executable).with_name("schemathesis")),
                "--config-file=schemathesis.toml",
                "run",
                "contracts/openapi.json",
                f"--url={base_url}",
                f"--include-path-regex={paths}",
                f"--max-examples={max_examples}",
                *ctx.args,
            ]
            click.echo(" ".join(command), err=True)
            # The key reaches Schemathesis through the environment, never through a command line or a log.
            env = {**os.environ, "SALE_ORDERS_API_KEY": key}
            codes.append(subprocess.call(command, env=env))  # noqa: S603 - our own tool
        return max(codes)

    if url is not None:
        api_key = os.environ.get("SALE_ORDERS_API_KEY")
        if not api_key:
            raise click.UsageError("testing a deployment needs one of its write keys: set SALE_ORDERS_API_KEY")
        sys.exit(run(url.rstrip("/"), api_key))
    key = new_api_key()
    with scratch_server(env={"API_KEYS": f"write:{api_key_digest(key)}"}) as base_url:
        code = run(base_url, key)
    sys.exit(code)


@main.command("api-key")
@click.option(
    "--scope",
    type=click.Choice(["write", "read"]),
    default="write",
    show_default=True,
    help="write: every operation; read: GET only",
)
def api_key(scope: str) -> None:
    """Make a new API key: the key for a client, and the entry to add to the server's API_KEYS.

    The server keeps only the key's SHA-256, so the key is shown once: keep it now.
    """
    from sale_orders.api.auth import api_key_digest, new_api_key  # noqa: PLC0415

    key = new_api_key()
    click.echo(f"SALE_ORDERS_API_KEY={key}")
    click.echo(f"API_KEYS={scope}:{api_key_digest(key)}")
    click.echo("API_KEYS takes several entries, comma-separated; clients send `Authorization: Bearer <key>`", err=True)


@main.command(context_settings={"ignore_unknown_options": True, "allow_extra_args": True, "help_option_names": []})
@click.pass_context
def bench(ctx: click.Context) -> None:
    """Benchmark the families against a raw asyncpg ceiling, layer by layer (--ladder), or two versions (--ab REV).

    See bench/README.md and `bench --help`.
    """
    harness = Path("bench/run.py")
    if not harness.exists():
        raise click.ClickException("run this from the repository's root: bench/run.py is not here")
    sys.exit(subprocess.call([sys.executable, str(harness), *ctx.args]))  # noqa: S603 - our own script


if __name__ == "__main__":
    sys.exit(main())
