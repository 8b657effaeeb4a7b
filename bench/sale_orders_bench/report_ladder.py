"""The ladder's results: a table per endpoint, where a request's time goes per family, and a waterfall plot."""

from pathlib import Path
from typing import Any

import matplotlib as mpl

mpl.use("Agg")
import matplotlib.pyplot as plt

from sale_orders.features import SUMMARIES
from sale_orders_bench.ladder.rungs import API_KEYS_RUNG, CORE, FEATURE_RUNGS, FEATURES, LAST_FEATURE, OPTIONAL
from sale_orders_bench.ladder_runs import BASE, PRODUCT

# The shares of a request's time, in the order the ladder adds them; a step's layer names its share.
SHARES = (
    (BASE, ("server, driver and database", "Litestar, server, driver and database")),
    ("framework", ("framework", "framework, thread pool and psycopg2")),
    ("SQLAlchemy execution", ("SQLAlchemy execution",)),
    ("session and transaction", ("session and transaction",)),
    ("validation", ("validation: pydantic", "validation: field types")),
    (CORE, (CORE,)),
    (FEATURES, (FEATURES,)),
)
STEP_HEADER = (
    "| step | req/s | min-max | p50 / p99 ms | x bare | x thinnest | x autocommit | µs/request | adds µs | errors |"
)
COLORS = ("dimgray", "tab:blue", "tab:orange", "tab:red", "tab:purple", "tab:green", "tab:olive")


def _number(value: float | None, digits: int = 0) -> str:
    return "-" if value is None else f"{value:,.{digits}f}"


def shares(ladder: dict[str, Any]) -> dict[str, float | None]:
    """Microseconds per request by share (None where the ladder has no step for it, e.g. no ceiling)."""
    totals: dict[str, float | None] = {share: None for share, _ in SHARES}
    for step in ladder["steps"]:
        if step["layer"] == OPTIONAL:  # beyond the product as it ships
            continue
        cost = step["us_per_request"] if step["adds_us"] is None else step["adds_us"]
        share = next(name for name, layers in SHARES if step["layer"] in layers)
        totals[share] = (totals[share] or 0.0) + (cost or 0.0)
    return totals


def ladder_markdown(ladder: dict[str, Any]) -> list[str]:
    lines = [
        f"## The ladder: bare Litestar to the product, {ladder['rounds']} round(s) of {ladder['duration_s']} s runs",
        "",
        (
            "Each family climbs from a bare Litestar app to the thinnest path through the product's stack (the "
            "`schema` rung on a create, `session` on a page), one layer per rung, on the product's SQL, answering "
            "its JSON (sale_orders_bench.ladder); the `autocommit` rung then runs that thinnest path as the product "
            "does (one "
            "statement in autocommit on the session). Figures are medians of the rounds; min-max shows the spread "
            "between rounds: differences inside it are noise. x bare = requests/s over the family's first Litestar "
            "rung; x thinnest = over its thinnest path."
        ),
        "",
    ]
    for item in ladder["ladders"]:
        lines += [
            f"### {item['family']} `{item['endpoint']}`, c={item['concurrency']}",
            "",
            STEP_HEADER,
            "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|",
        ]
        lines += [
            f"| {step['label']} | {_number(step['requests_per_s'])} "
            f"| {_number(step['min_requests_per_s'])}-{_number(step['max_requests_per_s'])} "
            f"| {step['p50_ms']:.1f} / {step['p99_ms']:.1f} | {_number(step['of_bare_litestar'], 2)} "
            f"| {_number(step['of_thinnest_path'], 2)} | {_number(step.get('of_products_way'), 2)} "
            f"| {_number(step['us_per_request'])} "
            f"| {_number(step['adds_us'])} | {step['errors']} |"
            for step in item["steps"]
        ]
        lines.append("")
    lines += [
        "### Where a request's time goes (µs per request = 1 / throughput)",
        "",
        "| endpoint | family | c | " + " | ".join(name for name, _ in SHARES) + " | total |",
        "|---|---|--:|" + "--:|" * (len(SHARES) + 1),
    ]
    for item in ladder["ladders"]:
        by_share = shares(item)
        total = sum(value or 0.0 for value in by_share.values())
        cells = " | ".join(_share_cell(value, total) for value in by_share.values())
        lines.append(f"| `{item['endpoint']}` | {item['family']} | {item['concurrency']} | {cells} | {total:,.0f} |")
    lines += [
        "",
        (
            f"Each share is what its steps add to the step before; {BASE} is the ceiling's own time (or, where the "
            f"ceiling does not serve the endpoint, bare Litestar's: then framework is inside it); session and "
            f"transaction is net of what the `autocommit` rung saves; {CORE} is the product without its features "
            "(`FEATURES=none`) minus the `autocommit` rung (routes, dependency injection, advanced-alchemy's "
            f"per-request session, services); {FEATURES} is the product minus its core. A negative share is a step "
            "measured faster than the one before: noise, or a real saving."
        ),
        "",
        *feature_costs_markdown(ladder),
    ]
    return lines


def feature_costs_markdown(ladder: dict[str, Any]) -> list[str]:
    """What each of the product's features adds, µs per request, by endpoint and family: what to copy."""
    columns = [item for item in ladder["ladders"] if item["concurrency"] == ladder["concurrency"][0]]
    rows = [
        (FEATURE_RUNGS[0].name, f"{CORE} (`{FEATURE_RUNGS[0].name}`): {FEATURE_RUNGS[0].adds}"),
        *((rung.name, rung.adds) for rung in FEATURE_RUNGS[1:]),
        (PRODUCT, f"+ `{LAST_FEATURE}`: {SUMMARIES[LAST_FEATURE]} (the product as it ships)"),
        (API_KEYS_RUNG.name, API_KEYS_RUNG.adds),
    ]
    lines = [
        f"### What each of the product's features costs (µs per request, c={ladder['concurrency'][0]})",
        "",
        "| step | " + " | ".join(f"{item['family']} `{item['endpoint']}`" for item in columns) + " |",
        "|---|" + "--:|" * len(columns),
    ]
    for name, label in rows:
        cells = [_signed(step["adds_us"]) if (step := _step(item, name)) else "-" for item in columns]
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    ratios = [_number((_step(item, PRODUCT) or {}).get("of_products_way"), 2) for item in columns]
    lines += [
        "| **the product, x the `autocommit` rung** | " + " | ".join(ratios) + " |",
        "",
        (
            f"Each cell is what the step adds to the one before it (the `{FEATURE_RUNGS[0].name}` row: to the "
            "`autocommit` rung); a dash where a feature changes nothing in that family. Single steps are within "
            "the rounds' spread of each other (the per-step tables above): read a few tens of µs as noise."
        ),
        "",
    ]
    return lines


def _step(item: dict[str, Any], name: str) -> dict[str, Any] | None:
    return next((step for step in item["steps"] if step["step"] == name), None)


def _signed(value: float | None) -> str:
    return "-" if value is None else f"{value:+,.0f}"


def _share_cell(value: float | None, total: float) -> str:
    if value is None:
        return "-"
    return f"{value:,.0f} ({100 * value / total:.0f}%)" if total else f"{value:,.0f}"


def plot_ladder(ladder: dict[str, Any], path: Path) -> Path:
    """A waterfall per endpoint and family: the microseconds each layer adds, from the ceiling to the product."""
    items: list[dict[str, Any]] = ladder["ladders"]
    endpoints = list(dict.fromkeys(item["endpoint"] for item in items))
    families = list(dict.fromkeys(item["family"] for item in items))
    figure, grid = plt.subplots(
        len(endpoints), len(families), figsize=(6.5 * len(families), 3.6 * len(endpoints)), squeeze=False
    )
    colors = dict(zip((name for name, _ in SHARES), COLORS, strict=True))
    for item in items:
        if item["concurrency"] != ladder["concurrency"][0]:
            continue
        axes = grid[endpoints.index(item["endpoint"])][families.index(item["family"])]
        level, highest = 0.0, 0.0
        for index, (name, value) in enumerate(shares(item).items()):
            if value is None:
                continue
            axes.bar(index, value, bottom=level, color=colors[name], edgecolor="black", linewidth=0.5)
            label = f"{value:+,.0f}" if index else f"{value:,.0f}"
            axes.annotate(label, (index, max(level, level + value)), ha="center", va="bottom", fontsize=8)
            level += value
            highest = max(highest, level, level - value)
        axes.axhline(level, color="black", linewidth=0.8, linestyle=":")
        names = [item["steps"][0]["layer"], *(name for name, _ in SHARES[1:])]
        axes.set_xticks(range(len(SHARES)), [_wrap(name) for name in names], fontsize=7)
        axes.set_ylim(0, highest * 1.12)
        axes.set_ylabel("µs per request")
        axes.set_title(f"{item['family']} {item['endpoint']} (c={item['concurrency']}): {level:,.0f} µs", fontsize=10)
        axes.grid(visible=True, axis="y", alpha=0.3)
    figure.suptitle("Where a request's time goes: each layer of the stack, from the raw ceiling to the product")
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)
    return path


def _wrap(name: str) -> str:
    words = name.split()
    middle = (len(words) + 1) // 2
    return " ".join(words[:middle]) + "\n" + " ".join(words[middle:]) if len(words) > 1 else name
