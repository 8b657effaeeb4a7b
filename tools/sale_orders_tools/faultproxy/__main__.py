"""`python -m sale_orders_tools.faultproxy`: run a proxy, or send a command to a running one."""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys

from sale_orders_tools.faultproxy.proxy import LatencyProxy, control
from sale_orders_tools.faultproxy.stats import Address, new_loop, parse_address, parse_target


def _show(address: Address) -> str:
    return f"{address[0]}:{address[1]}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--listen", type=parse_address, help="HOST:PORT to listen on (loopback)")
    parser.add_argument("--target", type=parse_target, help="HOST:PORT (loopback) or a unix socket path to forward to")
    parser.add_argument("--delay-ms", type=float, default=0.0, help="one-way delay, each direction")
    parser.add_argument("--delay-up-ms", type=float, help="client -> server delay (overrides --delay-ms)")
    parser.add_argument("--delay-down-ms", type=float, help="server -> client delay (overrides --delay-ms)")
    parser.add_argument("--control", type=parse_address, help="HOST:PORT of the control port (loopback)")
    parser.add_argument("--count-messages", action="store_true", help="count PostgreSQL frontend messages")
    parser.add_argument("--hold", action="store_true", help="start with the link cut")
    parser.add_argument("--timer-lead-ms", type=float, default=0.0, help="write chunks this much early")
    parser.add_argument("--no-uvloop", action="store_true", help="use asyncio's own loop even if uvloop is installed")
    parser.add_argument("--ctl", metavar="HOST:PORT", type=parse_address, help="send COMMAND to a running proxy")
    parser.add_argument("command", nargs="*", help="with --ctl: hold|release|delay [up|down] MS|reset|stats|zero")
    args = parser.parse_args(argv)

    if args.ctl is not None:
        try:
            sys.stdout.write(control(args.ctl, " ".join(args.command) or "ping") + "\n")
        except (OSError, RuntimeError) as exc:
            sys.stderr.write(f"{exc}\n")
            return 1
        return 0
    if args.listen is None or args.target is None:
        parser.error("--listen and --target are required (or --ctl)")

    loop = new_loop(uvloop_if_available=not args.no_uvloop)
    asyncio.set_event_loop(loop)
    proxy = LatencyProxy(
        args.listen,
        args.target,
        delay_ms=args.delay_ms,
        delay_up_ms=args.delay_up_ms,
        delay_down_ms=args.delay_down_ms,
        count_messages=args.count_messages,
        held=args.hold,
        timer_lead_ms=args.timer_lead_ms,
    )
    done = asyncio.Event()

    async def serve() -> None:
        await proxy.start(args.control)
        for signum, action in ((signal.SIGUSR1, proxy.hold), (signal.SIGUSR2, proxy.release)):
            loop.add_signal_handler(signum, action)
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, done.set)
        where = f"proxy {_show(proxy.listen)} -> {args.target if isinstance(args.target, str) else _show(args.target)}"
        if proxy.control_address is not None:
            where += f", control {_show(proxy.control_address)}"
        sys.stdout.write(where + "\n")
        sys.stdout.flush()
        await done.wait()
        await proxy.stop()

    try:
        loop.run_until_complete(serve())
    finally:
        loop.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
