"""The benchmark's command line: what to measure, and the defaults of each measurement."""

import argparse
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from endpoints import ENDPOINTS, FAMILIES
from ladder_runs import ENDPOINTS as LADDER_ENDPOINTS

SLUGS = {endpoint.slug: endpoint for endpoint in ENDPOINTS}
# The matrix keeps the endpoints its published figures have; PATCH /order joins with --endpoints (or --network).
MATRIX_ENDPOINTS = [slug for slug in SLUGS if slug != "patch_order"]
QUICK = {"orders": 500, "concurrency": [1, 8], "duration": 2, "warmup": 1, "step_duration": 1}
FULL = {"orders": 10_000, "concurrency": [1, 8, 64], "duration": 10, "warmup": 2, "step_duration": 5}
# The ladder and A/B compare steps or versions on the endpoints that matter most, at one concurrency.
FOCUSED_ENDPOINTS = [endpoint.slug for endpoint in LADDER_ENDPOINTS]
FOCUSED_CONCURRENCY = [8]
ROUNDS = {"workers": 3, "ladder": 3, "ab": 5}
QUICK_ROUNDS = {"workers": 3, "ladder": 1, "ab": 2}
# --network: PostgreSQL direct, then behind the delay proxy at each one-way delay (ms).
NETWORK = {"orders": 10_000, "concurrency": [8, 64, 256], "duration": 10, "warmup": 2}
NETWORK_QUICK = {"orders": 300, "concurrency": [8], "duration": 1, "warmup": 0}
NETWORK_DELAYS = {"full": ["direct", "0", "0.25", "1", "5", "15"], "quick": ["direct", "0", "5"]}
NETWORK_ENDPOINTS = ["list_orders", "post_contact", "post_order", "patch_order"]
NETWORK_COSTS = {"full": [16, 64, 256], "quick": [16]}
SIZINGS = ["defaults", "recommended"]


def _integers(text: str) -> list[int]:
    try:
        values = [int(part) for part in text.split(",") if part.strip()]
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"expected comma-separated integers, got {text!r}") from exc
    if not values or min(values) < 1:
        raise argparse.ArgumentTypeError("expected positive integers")
    return values


def _delays(text: str) -> list[str]:
    """`direct` and one-way delays in ms, in the order given: "direct,0,0.25,1" -> ["direct", "0", "0.25", "1"]."""
    values = []
    for part in (part.strip() for part in text.split(",") if part.strip()):
        if part == "direct":
            values.append(part)
            continue
        try:
            delay = float(part)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(f"expected `direct` or a delay in ms, got {part!r}") from exc
        if not 0 <= delay <= 1000:  # a second each way: no database one would use
            raise argparse.ArgumentTypeError(f"a one-way delay is 0..1000 ms, got {part}")
        values.append(f"{delay:g}")
    if not values:
        raise argparse.ArgumentTypeError("expected at least one delay")
    return values


def _choices(allowed: Sequence[str]) -> Any:
    def parse(text: str) -> list[str]:
        values = [part.strip() for part in text.split(",") if part.strip()]
        if unknown := [value for value in values if value not in allowed]:
            raise argparse.ArgumentTypeError(f"unknown {unknown}; choose from {', '.join(allowed)}")
        return values

    return parse


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="sale-orders bench",
        description=(
            "Start a scratch PostgreSQL (embedded, or a scratch database on the server at DATABASE_URL), fill it "
            "with demo data, serve the API (`sale-orders serve`) and the raw asyncpg ceiling (bench/ceiling.py), "
            "then drive each endpoint x family x concurrency with wrk. Writes results.json, results.md and PNG "
            "plots. With --scale, --leak, --profile, --compare-workers or --ladder it runs those measurements "
            "instead of the matrix (add --matrix to run it as well); --ab compares two versions of the API instead."
        ),
        epilog="Endpoints: "
        + ", ".join(f"{e.slug} = {e.name}" for e in ENDPOINTS)
        + ". Needs wrk: apt-get install wrk.",
    )
    run = parser.add_argument_group("the matrix")
    run.add_argument(
        "--quick",
        action="store_true",
        help="smoke run for CI: 500 orders, c=1,8, 2 s runs, then the ladder once, 1 s per step, no warm-up; "
        "with --network: direct, 0 and 5 ms, 300 orders, c=8, 1 s runs, costs at N=16; fails on errors",
    )
    run.add_argument(
        "--orders", type=int, help="demo orders to load (default 10,000; --quick 500, --network --quick 300)"
    )
    run.add_argument(
        "--concurrency",
        type=_integers,
        help="comma-separated connection counts (default 1,8,64; --ladder and --ab: 8; --network: 8,64,256)",
    )
    run.add_argument("--duration", type=int, help="seconds per wrk run (default 10; --quick 2, --network --quick 1)")
    run.add_argument(
        "--warmup",
        type=int,
        help="seconds of warm-up per endpoint and family (default 2; --quick 1, --network --quick 0: none)",
    )
    run.add_argument(
        "--workers", type=int, default=1, help="uvicorn worker processes, API and ceiling alike (default: 1)"
    )
    run.add_argument(
        "--endpoints",
        type=_choices(list(SLUGS)),
        help=f"comma-separated endpoint slugs (default: all but patch_order, see below; --ladder, --ab: "
        f"{','.join(FOCUSED_ENDPOINTS)}; --network: {','.join(NETWORK_ENDPOINTS)})",
    )
    run.add_argument(
        "--families",
        type=_choices(FAMILIES),
        default=list(FAMILIES),
        help="comma-separated families (default: sync,async)",
    )
    run.add_argument("--timeout", type=int, default=30, help="wrk's per-request timeout, seconds (default: 30)")
    run.add_argument(
        "--wrk-threads", type=int, default=1, help="wrk threads; one drives thousands of req/s (default: 1)"
    )
    run.add_argument("--output", type=Path, help="directory for the results (default bench/results/<timestamp>)")
    run.add_argument("--fail-on-errors", action="store_true", help="exit 1 if any run had errors (implied by --quick)")
    extra = parser.add_argument_group("extra measurements (instead of the matrix, unless --matrix)")
    extra.add_argument("--matrix", action="store_true", help="run the matrix as well as the extras")
    extra.add_argument(
        "--metrics", action="store_true", help="scrape the API's /metrics around the matrix: 5xx and pool waits"
    )
    extra.add_argument(
        "--scale", type=int, nargs="?", const=1_000_000, metavar="ORDERS",
        help="GET /order?limit=50 latency with --orders orders, then after growing to ORDERS (default: 1,000,000)",
    )  # fmt: skip
    extra.add_argument(
        "--leak", type=int, nargs="?", const=200_000, metavar="REQUESTS",
        help="server RSS while serving REQUESTS requests of every endpoint, checked at 10%%..100%% (default: 200,000)",
    )  # fmt: skip
    extra.add_argument(
        "--profile", action="store_true", help="py-spy profile (SVG and summary) of --profile-endpoints per family"
    )
    extra.add_argument(
        "--profile-endpoints",
        type=_choices(list(SLUGS)),
        default=["list_orders"],
        help="comma-separated endpoint slugs to profile (default: list_orders)",
    )
    extra.add_argument("--profile-seconds", type=int, default=10, help="seconds of sampling per family (default: 10)")
    extra.add_argument("--profile-concurrency", type=int, default=8, help="connections while profiling (default: 8)")
    extra.add_argument(
        "--compare-workers", action="store_true", help="GET /order?limit=50 throughput with 1 and 2 workers"
    )
    extra.add_argument(
        "--workers-concurrency", type=int, default=64, help="connections for --compare-workers (default: 64)"
    )
    _add_focused_arguments(parser, extra)
    _add_network_arguments(parser)
    return parser


def _add_network_arguments(parser: argparse.ArgumentParser) -> None:
    network = parser.add_argument_group("network: PostgreSQL milliseconds away, behind a delay proxy (runs on its own)")
    network.add_argument(
        "--network",
        action="store_true",
        help="serve the API with its DATABASE_URL on the fault proxy in front of the scratch PostgreSQL, at each "
        "--delays, once per --sizings; drive --endpoints x --concurrency x --families; then measure what a thread and "
        "a connection cost (--costs). Writes results.json, results.md and <endpoint>-c<c>.png (bench/README.md)",
    )
    network.add_argument(
        "--delays",
        type=_delays,
        help="comma-separated one-way delays in ms, `direct` for no proxy (default direct,0,0.25,1,5,15; "
        "--quick direct,0,5)",
    )
    network.add_argument(
        "--sizings",
        type=_choices(SIZINGS),
        default=list(SIZINGS),
        help="defaults: the server's SYNC_THREADS, SYNC_POOL_SIZE, ASYNC_POOL_SIZE; recommended: the sizing rule's "
        "for each delay (bench/sizing.py), served only where it differs (default: defaults,recommended)",
    )
    network.add_argument(
        "--costs",
        type=_integers,
        help="requests in flight at which to measure the worker's RSS and PostgreSQL's backends (default 16,64,256; "
        "--quick 16)",
    )
    network.add_argument("--no-costs", action="store_true", help="leave out the cost of threads and connections")


def _add_focused_arguments(parser: argparse.ArgumentParser, extra: argparse._ArgumentGroup) -> None:
    """The ladder's and A/B's options: alternating rounds of short runs."""
    extra.add_argument(
        "--ladder",
        action="store_true",
        help="each family's ladder from bare Litestar to the thinnest path through the stack, next to the ceiling "
        "and the product (bench/ladder); --quick runs a short one after the matrix",
    )
    extra.add_argument(
        "--rounds",
        type=int,
        help="alternating rounds: --compare-workers 3, --ladder 3 (--quick 1), --ab 5 (--quick 2)",
    )
    extra.add_argument(
        "--step-duration", type=int, help="seconds per wrk run of --ladder and --ab (default 5; --quick 1)"
    )
    ab = parser.add_argument_group("A/B: two versions of the API on one database (runs on its own)")
    ab.add_argument(
        "--ab",
        metavar="REV",
        help="serve version A from git ref REV (a temporary worktree with its own venv) next to version B, and "
        "compare them in alternating runs: medians, B/A and spread",
    )
    ab.add_argument(
        "--ab-rev-b",
        metavar="REV_OR_WORKTREE",
        help="version B: a git ref, or the directory of another checkout with its .venv (default: this working tree)",
    )


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = _parser()
    args = parser.parse_args(argv)
    if args.network:
        _network_defaults(parser, args)
    focused_endpoints, focused_concurrency = (
        args.endpoints or FOCUSED_ENDPOINTS,
        args.concurrency or FOCUSED_CONCURRENCY,
    )
    defaults = QUICK if args.quick else FULL
    for name, value in defaults.items():
        if getattr(args, name) is None:
            setattr(args, name, value)
    args.endpoints = args.endpoints or MATRIX_ENDPOINTS
    args.fail_on_errors = args.fail_on_errors or args.quick
    _choose_measurements(parser, args, focused_endpoints)
    args.focused_concurrency = focused_concurrency
    rounds = QUICK_ROUNDS if args.quick else ROUNDS
    args.workers_rounds = args.rounds or rounds["workers"]
    args.ladder_rounds = args.rounds or rounds["ladder"]
    args.ab_rounds = args.rounds or rounds["ab"]
    return args


def _network_defaults(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """--network's own defaults (before the matrix's), and what it runs with."""
    if args.ab or args.matrix or any([args.scale, args.leak, args.profile, args.compare_workers, args.ladder]):
        parser.error("--network runs on its own: leave out --ab, --matrix and the other extra measurements")
    form = "quick" if args.quick else "full"
    for name, value in (NETWORK_QUICK if args.quick else NETWORK).items():
        if getattr(args, name) is None:
            setattr(args, name, value)
    args.delays = args.delays or NETWORK_DELAYS[form]
    args.network_endpoints = [SLUGS[slug].name for slug in args.endpoints or NETWORK_ENDPOINTS]
    args.costs = [] if args.no_costs else args.costs or NETWORK_COSTS[form]


def _choose_measurements(parser: argparse.ArgumentParser, args: argparse.Namespace, focused: list[str]) -> None:
    """The matrix unless extras replace it; the ladder when asked, or short after the matrix with --quick."""
    args.extras = any([args.scale, args.leak, args.profile, args.compare_workers, args.ladder])
    if args.ab and (args.extras or args.matrix):
        parser.error("--ab runs on its own: leave out --matrix and the other extra measurements")
    if args.ab_rev_b and not args.ab:
        parser.error("--ab-rev-b needs --ab REV (version A)")
    args.run_matrix = (args.matrix or not args.extras) and not args.ab and not args.network
    args.run_ladder = args.ladder or (args.quick and not args.extras and not args.ab and not args.network)
    args.focused_endpoints = [SLUGS[slug] for slug in focused]
    args.ladder_endpoints = [endpoint for endpoint in args.focused_endpoints if endpoint in LADDER_ENDPOINTS]
    if args.ladder and len(args.ladder_endpoints) < len(args.focused_endpoints):
        parser.error(f"the ladder serves {', '.join(e.slug for e in LADDER_ENDPOINTS)} only")
    args.run_ladder = args.run_ladder and bool(args.ladder_endpoints)
