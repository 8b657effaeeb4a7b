"""The `sale-orders` command: serve the API, migrate the database, purge Idempotency-Keys, make API keys.

These are the verbs of a production install. A development install (`uv sync`) adds the verbs of
`sale_orders_tools` (contract, SDK, demo data, benchmarks), registered under the entry point group
`sale_orders.commands`.
"""

import importlib.metadata
import ipaddress
import logging
import logging.config
import os
import sys

import click

from sale_orders.db.embedded import configured_or_embedded
from sale_orders.logs import logging_config
from sale_orders.settings import Settings, SettingsError, load_settings

log = logging.getLogger("sale_orders.cli")


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
    try:
        log_format = load_settings().log_format
    except SettingsError:  # reported by the command that needs the settings; `api-key` and --help need none
        log_format = "text"
    logging.config.dictConfig(logging_config(log_format))


def settings_or_exit() -> Settings:
    """The settings, or exit with status 2 and one line per bad setting (its name and what is wrong)."""
    try:
        return load_settings()
    except SettingsError as exc:
        for line in str(exc).splitlines():
            click.secho(f"sale-orders: bad setting {line}", fg="red", err=True)
        sys.exit(2)


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
    from sale_orders.web.metrics_dir import shared_metrics_directory  # noqa: PLC0415
    from sale_orders.web.uvicorn_protocols import PROTOCOLS  # noqa: PLC0415

    settings = settings_or_exit()
    if not settings.api_key_scopes and not is_loopback(host):
        click.secho(
            f"WARNING: serving on {host} without API keys: anyone who can reach this address can change or delete"
            " every order. Set API_KEYS (`sale-orders api-key` makes a key), or bind to 127.0.0.1.",
            fg="red",
            bold=True,
            err=True,
        )
    with configured_or_embedded(settings) as url, shared_metrics_directory(settings.prometheus_multiproc_dir, workers):
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
            # uvicorn's protocol with bounds on request headers (size, time) and bodies (time): web/transport.py.
            http=PROTOCOLS[http],
            h11_max_incomplete_event_size=settings.max_request_header_bytes,
            loop=loop,
            # uvicorn kills a worker that does not answer its ping within this; a new worker first imports
            # the app (seconds on a busy host), and uvicorn's 5 s made busy hosts restart workers in a loop.
            timeout_worker_healthcheck=30,
            # No WebSocket route: an Upgrade request is an ordinary request (uvicorn would answer it a bare 403).
            ws="none",
        )


@main.group()
def db() -> None:
    """Database schema migrations (Alembic)."""


@db.command("upgrade")
@click.option("--revision", default="head", show_default=True)
def db_upgrade(revision: str) -> None:
    """Apply migrations to the configured (or embedded) database."""
    from sale_orders.db.migrate import upgrade  # noqa: PLC0415

    with configured_or_embedded(settings_or_exit()) as url:
        upgrade(url, revision)
    click.echo(f"database upgraded to {revision}", err=True)


@db.command("revision")
@click.option("-m", "--message", required=True, help="what the migration changes")
def db_revision(message: str) -> None:
    """Write a new migration from the difference between the models and the database."""
    from sale_orders.db.migrate import new_revision, upgrade  # noqa: PLC0415

    with configured_or_embedded(settings_or_exit()) as url:
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

    settings = settings_or_exit()
    with configured_or_embedded(settings) as url:
        purged = purge_expired_idempotency_keys(url, settings.idempotency_window, batch_size)
    click.echo(f"purged {purged} Idempotency-Keys older than {settings.idempotency_window_hours:g} h")


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
    from sale_orders.web.auth import api_key_digest, new_api_key  # noqa: PLC0415

    key = new_api_key()
    click.echo(f"SALE_ORDERS_API_KEY={key}")
    click.echo(f"API_KEYS={scope}:{api_key_digest(key)}")
    click.echo("API_KEYS takes several entries, comma-separated; clients send `Authorization: Bearer <key>`", err=True)


COMMANDS_ENTRY_POINTS = "sale_orders.commands"


def add_installed_commands(group: click.Group) -> None:
    """Add the commands that installed packages register under `COMMANDS_ENTRY_POINTS` (the dev tools)."""
    for entry_point in importlib.metadata.entry_points(group=COMMANDS_ENTRY_POINTS):
        group.add_command(entry_point.load(), name=entry_point.name)


add_installed_commands(main)

if __name__ == "__main__":
    sys.exit(main())
