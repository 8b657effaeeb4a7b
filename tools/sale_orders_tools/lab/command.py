"""`sale-orders lab`: the click verb."""

import sys
from pathlib import Path

import click

# The fault names, here too so that --help needs no import of the lab (it imports the SDK, psycopg2...).
FAULT_NAMES = (
    "api-kill",
    "api-hang",
    "api-term",
    "rolling-restart",
    "db-upgrade",
    "link-cut",
    "primary-kill",
    "old-primary-back",
)


@click.command()
@click.option("--quick", is_flag=True, help="each fault once, at its shortest (for CI: about 2-3 minutes)")
@click.option("--rounds", type=click.IntRange(1, 10), help="rounds of every fault  [default: 3; --quick: 1]")
@click.option("--clients", type=click.IntRange(1, 32), help="concurrent clients  [default: 6; --quick: 4]")
@click.option(
    "--fault",
    "only",
    multiple=True,
    type=click.Choice(FAULT_NAMES),
    help="inject only this fault (repeatable; default: all, in the order listed above)",
)
@click.option("--no-faults", is_flag=True, help="start the lab, run the clients a few seconds, check, stop")
@click.option(
    "--output",
    type=click.Path(file_okay=False, path_type=Path),
    help="where results.json and results.md go  [default: docs/lab; with --no-faults: nowhere]",
)
@click.option(
    "--logs",
    type=click.Path(file_okay=False, path_type=Path),
    help="keep every process's log and the clients' log (clients.jsonl) here before the lab's folder goes",
)
def lab(  # noqa: PLR0913, PLR0917 - one parameter per option
    quick: bool,
    rounds: int | None,
    clients: int | None,
    only: tuple[str, ...],
    no_faults: bool,
    output: Path | None,
    logs: Path | None,
) -> None:
    r"""Run the API on several hosts on this machine, inject faults under load, and count what clients lost.

    \b
    Hosts, each on its own loopback address:
      etcd 127.0.0.10; PostgreSQL 18 primary + synchronous standby under Patroni 127.0.0.21-22;
      HAProxy 127.0.0.30:8080; API hosts 127.0.0.31-33 (`serve --workers 2`), each reaching both
      database hosts through its own fault proxies (DATABASE_URL with target_session_attrs=read-write).

    \b
    Faults, one at a time, while K clients (the SDK) create, read back and page through HAProxy:
      api-kill          an API host killed (SIGKILL) and started again
      api-hang          an API host hung (SIGSTOP), then resumed
      api-term          an API host stopped gracefully under load: drained in HAProxy, then SIGTERM
      rolling-restart   every API host drained, restarted and put back in turn
      db-upgrade        `db upgrade` from every API host at once
      link-cut          one API host's links to PostgreSQL held (10 s; --quick 5 s)
      primary-kill      the primary's host killed: Patroni promotes the standby
      old-primary-back  the old primary's Patroni started again: it rejoins as a standby

    \b
    Figures per fault (checked in SQL against the clients' log): acknowledged creates lost, orders created
    twice for one key, client errors by status, the longest wait, the write outage, the seconds until every
    API host serves writes again. Written to docs/lab/results.{json,md}; the last line sums them up. Exit
    status 1 when an acknowledged order was lost or created twice, or when the lab failed.

    \b
    Needs: haproxy, etcd-server (Debian packages), setpriv when run as root; Patroni is installed once into
    a cache venv (SALE_ORDERS_LAB_CACHE, default /var/tmp/sale-orders-lab-cache). Everything it starts is
    stopped by PID, also on Ctrl-C or SIGTERM, and its folder is removed.
    """
    from sale_orders_tools.lab.run import Options, run  # noqa: PLC0415 - heavy, and not needed for --help

    options = Options(
        quick=quick,
        rounds=rounds or (1 if quick else 3),
        clients=clients or (4 if quick else 6),
        faults=tuple(name for name in FAULT_NAMES if not only or name in only),
        no_faults=no_faults,
        output=output,
        logs=logs,
    )
    sys.exit(run(options))
