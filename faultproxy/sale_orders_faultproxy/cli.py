"""`sale-orders faultproxy` (or `python -m sale_orders_faultproxy`): run a proxy, or send a command to a running one.

`serve` runs a proxy until SIGINT or SIGTERM; every other subcommand is one command of its control port
(`control.COMMANDS`), sent to the proxy listening there.
"""

from __future__ import annotations

import asyncio
import signal
import sys

import click

from sale_orders_faultproxy import control
from sale_orders_faultproxy.process import announcement
from sale_orders_faultproxy.proxy import LatencyProxy
from sale_orders_faultproxy.stats import Address, Target, new_loop, parse_address, parse_target


def _address(_ctx: click.Context, _param: click.Parameter, value: str | None) -> Address | None:
    try:
        return None if value is None else parse_address(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from exc


def _target(_ctx: click.Context, _param: click.Parameter, value: str) -> Target:
    try:
        return parse_target(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from exc


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def faultproxy() -> None:
    """A user-space TCP proxy that delays or cuts the link to PostgreSQL (the kernel here has no netem).

    Loopback only. `serve` runs one; the other subcommands control a running one through its control port.
    """


@faultproxy.command()
@click.option(
    "--listen", metavar="HOST:PORT", required=True, callback=_address, help="where to listen (loopback; port 0: any)"
)
@click.option(
    "--target", metavar="HOST:PORT|SOCKET", required=True, callback=_target, help="where to forward (loopback)"
)
@click.option("--delay-ms", type=float, default=0.0, show_default=True, help="one-way delay, each direction")
@click.option("--delay-up-ms", type=float, help="client -> server delay (overrides --delay-ms)")
@click.option("--delay-down-ms", type=float, help="server -> client delay (overrides --delay-ms)")
@click.option(
    "--control", "control_address", metavar="HOST:PORT", callback=_address, help="where the control port listens"
)
@click.option("--count-messages", is_flag=True, help="count PostgreSQL frontend messages (Q, P, B, E, S...)")
@click.option("--hold", "held", is_flag=True, help="start with the link cut")
@click.option("--timer-lead-ms", type=float, default=0.0, show_default=True, help="write chunks this much early")
@click.option("--no-uvloop", is_flag=True, help="use asyncio's own loop even if uvloop is installed")
def serve(  # noqa: PLR0913, PLR0917 - one parameter per option
    listen: Address,
    target: Target,
    delay_ms: float,
    delay_up_ms: float | None,
    delay_down_ms: float | None,
    control_address: Address | None,
    count_messages: bool,
    held: bool,
    timer_lead_ms: float,
    no_uvloop: bool,
) -> None:
    """Forward LISTEN to TARGET with the delay asked for, until SIGINT or SIGTERM.

    Prints `proxy HOST:PORT -> TARGET, control HOST:PORT` once it listens. SIGUSR1 holds the link and SIGUSR2
    releases it.
    """
    loop = new_loop(uvloop_if_available=not no_uvloop)
    asyncio.set_event_loop(loop)
    proxy = LatencyProxy(
        listen,
        target,
        delay_ms=delay_ms,
        delay_up_ms=delay_up_ms,
        delay_down_ms=delay_down_ms,
        count_messages=count_messages,
        held=held,
        timer_lead_ms=timer_lead_ms,
    )
    done = asyncio.Event()

    async def run() -> None:
        await proxy.start(control_address)
        for signum, action in ((signal.SIGUSR1, proxy.hold), (signal.SIGUSR2, proxy.release)):
            loop.add_signal_handler(signum, action)
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, done.set)
        sys.stdout.write(announcement(proxy.listen, target, proxy.control_address) + "\n")
        sys.stdout.flush()
        await done.wait()
        await proxy.stop()

    try:
        loop.run_until_complete(run())
    finally:
        loop.close()


def _control_command(verb: str, command: control.Command) -> click.Command:
    """The subcommand that sends `verb` (with its arguments) to the control port given by --control."""

    def send(control_address: Address, arguments: tuple[str, ...]) -> None:
        try:
            click.echo(control.send(control_address, " ".join([verb, *arguments])))
        except (OSError, RuntimeError) as exc:
            raise click.ClickException(str(exc)) from exc

    params: list[click.Parameter] = [
        click.Option(
            ["--control", "control_address"],
            metavar="HOST:PORT",
            required=True,
            callback=_address,
            help="the proxy's control port",
        )
    ]
    params.append(click.Argument(["arguments"], nargs=-1, required=bool(command.arguments), metavar=command.arguments))
    return click.Command(verb, callback=send, params=params, help=f"{command.help[0].upper()}{command.help[1:]}.")


for _verb, _command in control.COMMANDS.items():
    faultproxy.add_command(_control_command(_verb, _command))


def main() -> None:
    faultproxy(prog_name="python -m sale_orders_faultproxy")
