"""The A/B comparison as Markdown: medians per version, the ratio B/A, and the spread that tells noise apart."""

from typing import Any


def _spread(medians: dict[str, Any]) -> str:
    return f"{medians['min_requests_per_s']:,.0f}-{medians['max_requests_per_s']:,.0f}"


def _number(value: float | None, digits: int = 2) -> str:
    return "-" if value is None else f"{value:,.{digits}f}"


def ab_markdown(ab: dict[str, Any]) -> list[str]:
    a, b = ab["versions"]["A"], ab["versions"]["B"]
    lines = [
        "## A/B: two versions side by side on one database",
        "",
        f"- A: {a['ref']} ({a['commit']})",
        f"- B: {b['ref']} ({b['commit']})",
        f"- migration head(s) of both: {ab['migration_heads']}",
        "",
        (
            f"{ab['rounds']} rounds of {ab['duration_s']} s runs per version and target, A then B in odd rounds and B "
            "then A in even ones; figures are medians of the rounds, min-max their spread. round B/A = each round's "
            "own ratio (the two runs were next to each other): a difference is beyond noise only when every round "
            "agrees on its side of 1."
        ),
        "",
        (
            "| endpoint | family | c | A req/s | A min-max | B req/s | B min-max | B/A | round B/A | "
            "A p50 / p99 ms | B p50 / p99 ms | p99 B/A | errors A/B | verdict |"
        ),
        "|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|---|",
    ]
    for item in ab["comparisons"]:
        first, second = item["A"], item["B"]
        rounds = item["round_ratios"]
        round_spread = f"{min(rounds):.2f}-{max(rounds):.2f}" if rounds else "-"
        lines.append(
            f"| `{item['endpoint']}` | {item['family']} | {item['concurrency']} "
            f"| {first['requests_per_s']:,.0f} | {_spread(first)} "
            f"| {second['requests_per_s']:,.0f} | {_spread(second)} "
            f"| **{_number(item['ratio_b_to_a'])}** | {round_spread} "
            f"| {first['p50_ms']:.1f} / {first['p99_ms']:.1f} | {second['p50_ms']:.1f} / {second['p99_ms']:.1f} "
            f"| {_number(item['p99_ratio_b_to_a'])} | {first['errors']} / {second['errors']} | {item['verdict']} |"
        )
    return [*lines, ""]
