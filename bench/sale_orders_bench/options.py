"""What a benchmark run is given: each measurement's defaults (full and `--quick`), and the options they share.

`Run` holds what every measurement that drives a served API with wrk shares; the subcommands of `cli` fill it,
with the defaults below where an option is not given, and parse comma-separated values with the callbacks below.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import click

from sale_orders_bench.endpoints import BY_SLUG, ENDPOINTS, FAMILIES, LADDER_ENDPOINTS, Endpoint

SLUGS = [endpoint.slug for endpoint in ENDPOINTS]
# The matrix keeps the endpoints its published figures have; PATCH /order joins with --endpoints (or `network`).
MATRIX_ENDPOINTS = [slug for slug in SLUGS if slug != "patch_order"]


@dataclass(frozen=True)
class Defaults:
    """What a run uses where an option is not given."""

    orders: int
    concurrency: tuple[int, ...]
    duration: int  # seconds per wrk run
    warmup: int  # seconds per target
    step_duration: int = 5  # seconds per wrk run of the ladder and A/B


QUICK = Defaults(orders=500, concurrency=(1, 8), duration=2, warmup=1, step_duration=1)
FULL = Defaults(orders=10_000, concurrency=(1, 8, 64), duration=10, warmup=2, step_duration=5)
# The ladder and A/B compare steps or versions on the endpoints that matter most, at one concurrency.
FOCUSED_ENDPOINTS = [endpoint.slug for endpoint in LADDER_ENDPOINTS]
FOCUSED_CONCURRENCY = [8]
ROUNDS = {"workers": 3, "ladder": 3, "ab": 5}
QUICK_ROUNDS = {"workers": 3, "ladder": 1, "ab": 2}
# `network`: PostgreSQL direct, then behind the delay proxy at each one-way delay (ms).
NETWORK = Defaults(orders=10_000, concurrency=(8, 64, 256), duration=10, warmup=2)
NETWORK_QUICK = Defaults(orders=300, concurrency=(8,), duration=1, warmup=0)
NETWORK_DELAYS = {"full": ["direct", "0", "0.25", "1", "5", "15"], "quick": ["direct", "0", "5"]}
NETWORK_ENDPOINTS = ["list_orders", "post_contact", "post_order", "patch_order"]
NETWORK_COSTS = {"full": [16, 64, 256], "quick": [16]}
SIZINGS = ["defaults", "recommended"]


@dataclass
class Run:
    """What a measurement on a served API is given (every field resolved: no default left to apply)."""

    quick: bool
    orders: int
    concurrency: list[int]
    duration_s: int
    warmup_s: int
    workers: int = 1
    families: list[str] = field(default_factory=lambda: list(FAMILIES))
    timeout_s: int = 30
    wrk_threads: int = 1
    output: Path | None = None
    fail_on_errors: bool = False
    step_duration_s: int | None = None

    @property
    def settings(self) -> dict[str, object]:
        """The run's settings as results.json records them."""
        return {
            "orders": self.orders,
            "concurrency": self.concurrency,
            "duration_s": self.duration_s,
            "step_duration_s": self.step_duration_s,
            "warmup_s": self.warmup_s,
            "workers": self.workers,
            "wrk_threads": self.wrk_threads,
            "timeout_s": self.timeout_s,
            "quick": self.quick,
        }


def defaults(quick: bool) -> Defaults:
    return QUICK if quick else FULL


def endpoints(slugs: Sequence[str]) -> list[Endpoint]:
    return [BY_SLUG[slug] for slug in slugs]


# -- parsing comma-separated values (click callbacks) ------------------------------------------------------------


def integers(_ctx: click.Context, _param: click.Parameter, text: str | None) -> list[int] | None:
    """`1,8,64` -> [1, 8, 64]; positive integers only."""
    if text is None:
        return None
    try:
        values = [int(part) for part in text.split(",") if part.strip()]
    except ValueError as exc:
        raise click.BadParameter(f"expected comma-separated integers, got {text!r}") from exc
    if not values or min(values) < 1:
        raise click.BadParameter("expected positive integers")
    return values


def delays(_ctx: click.Context, _param: click.Parameter, text: str | None) -> list[str] | None:
    """`direct` and one-way delays in ms, in the order given: "direct,0,0.25,1" -> ["direct", "0", "0.25", "1"]."""
    if text is None:
        return None
    values = []
    for part in (part.strip() for part in text.split(",") if part.strip()):
        if part == "direct":
            values.append(part)
            continue
        try:
            delay = float(part)
        except ValueError as exc:
            raise click.BadParameter(f"expected `direct` or a delay in ms, got {part!r}") from exc
        if not 0 <= delay <= 1000:  # a second each way: no database one would use
            raise click.BadParameter(f"a one-way delay is 0..1000 ms, got {part}")
        values.append(f"{delay:g}")
    if not values:
        raise click.BadParameter("expected at least one delay")
    return values


def choices(allowed: Sequence[str]) -> Callable[[click.Context, click.Parameter, str | None], list[str] | None]:
    """A callback that takes a comma-separated subset of `allowed`."""

    def parse(_ctx: click.Context, _param: click.Parameter, text: str | None) -> list[str] | None:
        if text is None:
            return None
        values = [part.strip() for part in text.split(",") if part.strip()]
        if unknown := [value for value in values if value not in allowed]:
            raise click.BadParameter(f"unknown {unknown}; choose from {', '.join(allowed)}")
        return values

    return parse
