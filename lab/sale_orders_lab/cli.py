"""`sale-orders lab`: the click group and its subcommands (`run`, `baseline`, `faults`).

Its help is made from the fault catalogue, and it imports the lab itself (the SDK, psycopg2...) only to run it.
"""

import inspect
import sys
from pathlib import Path

import click

from sale_orders_lab import catalogue

TOPOLOGY = """\b
Hosts, each on its own loopback address:
  etcd 127.0.0.10; PostgreSQL 18 primary + synchronous standby under Patroni 127.0.0.21-22;
  HAProxy 127.0.0.30:8080 (checks /health/live); API hosts 127.0.0.31-33 (`serve --workers 2`),
  each with its own HAProxy routing by Patroni's REST API (DATABASE_URL :5000 -> /primary,
  READ_DATABASE_URL :5001 -> /replica) through its own fault proxies to both database hosts."""
FAULTS = (
    "\b\nFaults, one at a time, while K clients (the SDK) create through one API host and read back through others:"
)
NEEDS = """\b
Needs: haproxy, etcd-server (Debian packages), setpriv when run as root; Patroni is installed once into
a cache venv (SALE_ORDERS_LAB_CACHE, default /var/tmp/sale-orders-lab-cache). Everything it starts is
stopped by PID, also on Ctrl-C or SIGTERM, and its folder is removed."""


def _with_catalogue(function: click.decorators.FC) -> click.decorators.FC:
    """Add the topology, the faults and the needs to a command's help."""
    faults = "\n".join([FAULTS, *(f"  {line}" for line in catalogue.help_lines())])
    function.__doc__ = "\n\n".join([inspect.cleandoc(function.__doc__ or ""), TOPOLOGY, faults, NEEDS])
    return function


@click.group()
def lab() -> None:
    """The API on several hosts on this machine, under faults, and what the clients lost (docs/lab/README.md).

    `run` injects the faults (`lab faults` lists them); `baseline` starts and stops the lab without any; `reads`
    measures reads from standbys and remote_apply without any.
    """


_OUTPUT = click.option(
    "--output",
    type=click.Path(file_okay=False, path_type=Path),
    help="where results.json and results.md go  [default: docs/lab; baseline: nowhere]",
)
_LOGS = click.option(
    "--logs",
    type=click.Path(file_okay=False, path_type=Path),
    help="keep every process's log and the clients' log (clients.jsonl) here before the lab's folder goes",
)
_CLIENTS = click.option("--clients", type=click.IntRange(1, 32), help="concurrent clients  [default: 6; --quick: 4]")
_MEASURE = click.option(
    "--measure-seconds",
    type=click.FloatRange(0, 600),
    help="each measurement phase after the faults (reads from standbys or not, remote_apply); 0: none"
    "  [default: 30; --quick: 0]",
)


@lab.command()
@click.option("--quick", is_flag=True, help="each fault once, at its shortest (for CI: about 2-3 minutes)")
@click.option("--rounds", type=click.IntRange(1, 10), help="rounds of every fault  [default: 3; --quick: 1]")
@_CLIENTS
@click.option(
    "--fault",
    "only",
    multiple=True,
    type=click.Choice(catalogue.NAMES),
    help="inject only this fault (repeatable; default: all, in the order listed below)",
)
@_MEASURE
@_OUTPUT
@_LOGS
@_with_catalogue
def run(  # noqa: PLR0913, PLR0917 - one parameter per option
    quick: bool,
    rounds: int | None,
    clients: int | None,
    only: tuple[str, ...],
    measure_seconds: float | None,
    output: Path | None,
    logs: Path | None,
) -> None:
    """Start the lab, inject faults under load one at a time, count what the clients lost and what reads missed.

    Figures per fault (checked in SQL against the clients' log): acknowledged creates lost, orders created
    twice for one key, stale reads and read-your-writes violations, the share of reads standbys answered, client
    errors by status, the longest wait, the write outage, the seconds until every API host serves writes again;
    how each failover looked from every API host. Then, without faults, the measurement phases (see `reads`).
    Written to docs/lab/results.{json,md}; the last line sums them up. Exit status 1 when an acknowledged order
    was lost or created twice, a read was stale or missed its client's own write, or the lab failed.
    """
    _run(
        quick=quick,
        rounds=rounds or (1 if quick else 3),
        clients=clients or (4 if quick else 6),
        faults=tuple(name for name in catalogue.NAMES if not only or name in only),
        no_faults=False,
        measure_seconds=(0 if quick else 30) if measure_seconds is None else measure_seconds,
        output=output,
        logs=logs,
    )


@lab.command()
@_CLIENTS
@_OUTPUT
@_LOGS
def baseline(clients: int | None, output: Path | None, logs: Path | None) -> None:
    """Start the lab, let the clients work a few seconds with no fault, check in SQL, stop.

    The lab's own start and stop, and the SQL check, with nothing injected: the exit status is 1 when anything
    acknowledged was lost or duplicated, or something was left behind (a process, a port, the lab's folder).
    """
    _run(quick=False, rounds=0, clients=clients or 6, faults=(), no_faults=True, output=output, logs=logs)


@lab.command()
@_CLIENTS
@click.option("--seconds", type=click.FloatRange(5, 600), default=30, show_default=True, help="each phase")
@_OUTPUT
@_LOGS
def reads(clients: int | None, seconds: float, output: Path | None, logs: Path | None) -> None:
    """Start the lab and measure reads from standbys with no fault: what they cost and save, and remote_apply.

    Three phases of the same client load: READ_DATABASE_URL set; set, with synchronous_commit = remote_apply on
    the synchronous standby (Patroni's configuration); unset. Each: creates and reads per second and their
    latency, reads answered by standbys, the primary's and the standby's transactions per second and CPU, reads
    without a token that missed the client's own write just acknowledged. And at c=1 on one host: a read the
    standby answers, one it refuses (answered by the primary), one with no standby at all; creates with `on` and
    with `remote_apply`. The full `run` ends with the same phases.
    """
    _run(
        quick=False,
        rounds=0,
        clients=clients or 6,
        faults=(),
        no_faults=False,
        measure_seconds=seconds,
        output=output,
        logs=logs,
    )


@lab.command()
def faults() -> None:
    """List the faults `run` injects, in order, with how long each lasts (full run; --quick)."""
    for line in catalogue.help_lines():
        click.echo(line)


def _run(  # noqa: PLR0913 - the options of one run
    *,
    quick: bool,
    rounds: int,
    clients: int,
    faults: tuple[str, ...],
    no_faults: bool,
    output: Path | None,
    logs: Path | None,
    measure_seconds: float = 0,
) -> None:
    from sale_orders_lab.run import Options  # noqa: PLC0415 - heavy, and not needed for --help
    from sale_orders_lab.run import run as run_lab  # noqa: PLC0415

    options = Options(
        quick=quick,
        rounds=rounds,
        clients=clients,
        faults=faults,
        no_faults=no_faults,
        measure_seconds=measure_seconds,
        output=output,
        logs=logs,
    )
    sys.exit(run_lab(options))
