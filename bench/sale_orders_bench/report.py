"""Results: every run as JSON, a Markdown table with the machine it ran on, and PNG plots."""

import json
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import matplotlib as mpl

mpl.use("Agg")
import matplotlib.pyplot as plt

from sale_orders_bench.endpoints import BY_NAME, CEILING, ENDPOINTS, FAMILIES

Row = dict[str, Any]
COLORS = {"sync": "tab:blue", "async": "tab:orange", CEILING: "dimgray"}
APPROXIMATE = "\u2020"  # marks a ratio taken against the closest ceiling endpoint, not the same one


def add_ratios(rows: Sequence[Row]) -> None:
    """Give every run its ratio to the ceiling run of its ceiling endpoint at the same concurrency."""
    ceilings = {(row["endpoint"], row["concurrency"]): row for row in rows if row["family"] == CEILING}
    for row in rows:
        endpoint = BY_NAME[row["endpoint"]]
        ceiling = ceilings.get((endpoint.ceiling, row["concurrency"]))
        row["ceiling_endpoint"] = endpoint.ceiling
        row["ceiling_exact"] = endpoint.exact_ceiling
        row["ceiling_requests_per_s"] = ceiling["requests_per_s"] if ceiling else None
        row["ratio"] = (
            round(row["requests_per_s"] / ceiling["requests_per_s"], 3)
            if ceiling and ceiling["requests_per_s"]
            else None
        )


def write_json(path: Path, document: dict[str, Any]) -> None:
    path.write_text(json.dumps(document, indent=2) + "\n")


def _number(value: float | None, digits: int = 0) -> str:
    return "-" if value is None else f"{value:,.{digits}f}"


def _latency(row: Row | None) -> str:
    return "-" if row is None else f"{row['p50_ms']:.1f} / {row['p99_ms']:.1f}"


def _ratio(row: Row | None) -> str:
    if row is None or row["ratio"] is None:
        return "-"
    return f"{row['ratio']:.2f}" + ("" if row["ceiling_exact"] else APPROXIMATE)


def matrix_table(rows: Sequence[Row]) -> list[str]:
    """One line per endpoint and concurrency: sync and async side by side, with their ratios to the ceiling."""
    by_key = {(row["family"], row["endpoint"], row["concurrency"]): row for row in rows}
    concurrencies = sorted({row["concurrency"] for row in rows})
    lines = [
        (
            "| endpoint | c | sync req/s | sync p50 / p99 ms | sync ratio | async req/s | async p50 / p99 ms "
            "| async ratio | ceiling req/s | ceiling p50 / p99 ms | errors s/a | others' CPU % |"
        ),
        "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|",
    ]
    for endpoint in ENDPOINTS:
        for concurrency in concurrencies:
            sync, async_ = (by_key.get((family, endpoint.name, concurrency)) for family in FAMILIES)
            if sync is None and async_ is None:
                continue
            ceiling = by_key.get((CEILING, endpoint.ceiling, concurrency))
            ceiling_rps = _number(ceiling["requests_per_s"] if ceiling else None)
            marker = "" if endpoint.exact_ceiling else f" {APPROXIMATE}"
            errors = " / ".join(str(row["errors"]) if row else "-" for row in (sync, async_))
            others = max((row.get("others_cpu_percent") or 0 for row in (sync, async_, ceiling) if row), default=0)
            lines.append(
                f"| `{endpoint.name}` | {concurrency} "
                f"| {_number(sync['requests_per_s'] if sync else None)} | {_latency(sync)} | {_ratio(sync)} "
                f"| {_number(async_['requests_per_s'] if async_ else None)} | {_latency(async_)} | {_ratio(async_)} "
                f"| {ceiling_rps}{marker} | {_latency(ceiling)} | {errors} | {others:.0f} |"
            )
    return lines


def machine_lines(machine: dict[str, str]) -> list[str]:
    return [f"- {key}: {value}" for key, value in machine.items()]


def matrix_markdown(document: dict[str, Any]) -> list[str]:
    settings = document["settings"]
    return [
        "## Throughput and latency",
        "",
        (
            f"{settings['orders']:,} demo orders, {settings['workers']} worker(s), {settings['duration_s']} s per run, "
            f"wrk with {settings['wrk_threads']} thread(s) on the same machine as the servers."
        ),
        "",
        *matrix_table(document["runs"]),
        "",
        (
            "ratio = requests/s divided by the ceiling's requests/s at the same concurrency, measured in the same run: "
            "the share of a framework-free asyncpg app's throughput that the API keeps (higher is better)."
        ),
        (
            f"{APPROXIMATE} the ceiling does not serve this endpoint: the ratio is taken against the closest one, "
            "`POST /contact` for writes and `GET /order?limit=50` for reads (so it can exceed 1 for cheap reads)."
        ),
        (
            "errors = non-2xx responses + socket errors and timeouts (sync / async). others' CPU % = the largest share "
            "of the machine's CPU that processes outside the benchmark used during the runs of that line: above a few "
            "percent, the figures of that line are disturbed."
        ),
        "",
    ]


def metrics_markdown(metrics: dict[str, dict[str, float]]) -> list[str]:
    """What the API's own /metrics said over the matrix (`--metrics`): requests, 5xx, and where requests queued."""
    lines = [
        "## The API's /metrics over the matrix",
        "",
        (
            "| family | requests | 5xx | max connections in use | max waiting for a connection "
            "| max threads busy | max queued for a thread |"
        ),
        "|---|--:|--:|--:|--:|--:|--:|",
    ]
    fields = (
        "requests",
        "errors_5xx",
        "max_db_pool_in_use",
        "max_db_pool_waiting",
        "max_thread_pool_busy",
        "max_thread_pool_queued",
    )
    for family, values in metrics.items():
        lines.append(f"| {family} | " + " | ".join(_number(values.get(name)) for name in fields) + " |")
    lines += [
        "",
        (
            "Scraped from the API's `GET /metrics` before and after the matrix (counters) and while it ran "
            "(gauges, the largest value seen)."
        ),
        "",
    ]
    return lines


def write_markdown(path: Path, document: dict[str, Any], sections: Iterable[list[str]]) -> None:
    lines = ["# Sale Orders API benchmark", "", f"Run {document['started']}, code {document.get('code')}.", ""]
    lines += ["## Machine", ""]
    lines += [*machine_lines(document["machine"]), ""]
    for section in sections:
        lines += section
    path.write_text("\n".join(lines) + "\n")


def _series(rows: Sequence[Row], family: str, endpoint: str, field: str) -> tuple[list[int], list[float]]:
    points = sorted(
        (row["concurrency"], row[field]) for row in rows if (row["family"], row["endpoint"]) == (family, endpoint)
    )
    return [c for c, _ in points], [value for _, value in points]


def plot_endpoints(rows: Sequence[Row], output: Path) -> list[Path]:
    """One PNG per endpoint: requests/s and p99 against concurrency, sync and async, the ceiling as a dashed line."""
    written = []
    concurrencies = sorted({row["concurrency"] for row in rows})
    for endpoint in ENDPOINTS:
        if not any(row["endpoint"] == endpoint.name and row["family"] in FAMILIES for row in rows):
            continue
        figure, (throughput, latency) = plt.subplots(1, 2, figsize=(12, 4.6), layout="constrained")
        for axes, field, label in (
            (throughput, "requests_per_s", "requests/s"),
            (latency, "p99_ms", "p99 latency (ms)"),
        ):
            for family in FAMILIES:
                x, y = _series(rows, family, endpoint.name, field)
                axes.plot(x, y, marker="o", linewidth=2, color=COLORS[family], label=family)
            x, y = _series(rows, CEILING, endpoint.ceiling, field)
            if x:
                note = "" if endpoint.exact_ceiling else " (closest)"
                axes.plot(x, y, linestyle="--", color=COLORS[CEILING], label=f"ceiling: {endpoint.ceiling}{note}")
            axes.set_xscale("log", base=2)
            axes.set_xticks(concurrencies, [str(c) for c in concurrencies])
            axes.set_xlabel("concurrent connections")
            axes.set_ylabel(label)
            axes.set_ylim(bottom=0)
            axes.grid(visible=True, alpha=0.3)
            axes.legend()
        throughput.set_title("throughput (higher is better)")
        latency.set_title("p99 latency (lower is better)")
        figure.suptitle(f"{endpoint.name}: sync (def, thread pool) vs async (async def)")
        path = output / f"{endpoint.slug}.png"
        figure.savefig(path, dpi=100)
        plt.close(figure)
        written.append(path)
    return written


def plot_rss(points: Sequence[tuple[int, float]], path: Path) -> Path:
    """Server RSS against the number of requests served (the leak check)."""
    figure, axes = plt.subplots(figsize=(7, 4), layout="constrained")
    axes.plot([n for n, _ in points], [mib for _, mib in points], marker="o")
    axes.set_xlabel("requests served")
    axes.set_ylabel("RSS (MiB)")
    axes.set_ylim(bottom=0)
    axes.grid(visible=True, alpha=0.3)
    axes.set_title("API server RSS under a mix of every endpoint of both families")
    figure.savefig(path, dpi=100)
    plt.close(figure)
    return path


def scale_markdown(scale: dict[str, Any]) -> list[str]:
    runs = {(r["orders"], r["family"], r["page"], r["concurrency"]): r for r in scale["runs"]}
    small, large = scale["orders_before"], scale["orders_after"]
    lines = [
        "## Scale: a page of 50 orders, small table against large table",
        "",
        f"Loading {scale['orders_loaded']:,} more orders with `demo-data` (COPY) took {scale['load_seconds']} s.",
        "`first` is the first page (what the matrix measures); `random` is the page after a random id.",
        "",
        (
            f"| family | page | c | p50 ms at {small:,} | p50 ms at {large:,} | p50 ratio | p99 ms at {small:,} "
            f"| p99 ms at {large:,} | p99 ratio | req/s ratio | others' CPU % |"
        ),
        "|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|",
    ]
    for c in scale["comparisons"]:
        old = runs[small, c["family"], c["page"], c["concurrency"]]
        new = runs[large, c["family"], c["page"], c["concurrency"]]
        lines.append(
            f"| {c['family']} | {c['page']} | {c['concurrency']} | {old['p50_ms']:.1f} | {new['p50_ms']:.1f} "
            f"| {c['p50_ratio']:.2f} | {old['p99_ms']:.1f} | {new['p99_ms']:.1f} | {c['p99_ratio']:.2f} "
            f"| {c['throughput_ratio']:.2f} | {_others(old, new):.0f} |"
        )
    return [*lines, ""]


def leak_markdown(leak: dict[str, Any]) -> list[str]:
    return [
        "## Leak check: server RSS against requests served",
        "",
        (
            f"A mix of every benchmarked endpoint of both families at concurrency {leak['concurrency']}, "
            f"VmRSS of the worker process(es) {leak['pids']}; errors: {leak['errors']}."
        ),
        "",
        "| requests served | RSS MiB |",
        "|--:|--:|",
        *(f"| {p['requests']:,} | {p['rss_mib']:.1f} |" for p in leak["points"]),
        "",
        f"RSS at the end / RSS after the first tenth of the requests: **{leak['growth_ratio']:.3f}**.",
        "",
    ]


def _others(*rows: Row) -> float:
    """The largest share of the CPU that other processes used during `rows`."""
    return max((row.get("others_cpu_percent") or 0.0 for row in rows), default=0.0)


def workers_markdown(workers: dict[str, Any]) -> list[str]:
    medians = workers["median_requests_per_s"]
    runs = workers["runs"]
    return [
        "## Workers: `GET /order?limit=50`, 1 worker against 2",
        "",
        (
            f"Concurrency {workers['concurrency']}, {workers['rounds']} alternating rounds, medians of requests/s. "
            "wrk and PostgreSQL run on the same cores as the workers, so 2 workers cannot reach 2x."
        ),
        "",
        "| family | 1 worker req/s | 2 workers req/s | ratio | others' CPU % |",
        "|---|--:|--:|--:|--:|",
        *(
            f"| {family} | {medians[f'{family}_1']:,.0f} | {medians[f'{family}_2']:,.0f} | {_number(ratio, 2)} "
            f"| {_others(*(row for row in runs if row['family'] == family)):.0f} |"
            for family, ratio in workers["ratios"].items()
        ),
        "",
    ]


def profile_markdown(profile: dict[str, Any]) -> list[str]:
    lines = [
        f"## Profiles at concurrency {profile['concurrency']} (py-spy --gil, {profile['seconds']} s each)",
        "",
        (
            "Shares of the samples taken while a thread of the API process held the GIL. Flame graphs and raw "
            "stacks: the `profile-<endpoint>-<family>.svg|txt` files next to this one."
        ),
        "",
    ]
    for data in profile["profiles"]:
        lines += [
            f"### {data['family']} `{data['endpoint']}`",
            "",
            f"Load while profiling: {data['load']}. GIL busy: {data['gil_busy_percent']}% of the time.",
            "",
            "| phase (most specific activity in the stack) | % |",
            "|---|--:|",
            *(f"| {item['name']} | {item['percent']} |" for item in data["by_phase"]),
            "",
            "| component (innermost frame) | % |",
            "|---|--:|",
            *(f"| {item['name']} | {item['percent']} |" for item in data["by_component"]),
            "",
            "| top functions, self time | % |",
            "|---|--:|",
            *(f"| `{item['name']}` | {item['percent']} |" for item in data["top_self"]),
            "",
            "| top functions, inclusive time | % |",
            "|---|--:|",
            *(f"| `{item['name']}` | {item['percent']} |" for item in data["top_inclusive"]),
            "",
        ]
    return lines
