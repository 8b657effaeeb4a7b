"""Where a server's time goes under load: py-spy samples of the API process, summarised by component.

py-spy samples only the thread holding the GIL (`--gil`), so the samples are the Python work of the
process, whichever thread does it; the share of samples over the sampling rate x duration says how busy
the GIL was (near 100%: the worker is CPU-bound in Python, and more threads or connections cannot help).
"""

import shutil
import subprocess
import sys
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from sale_orders_bench.endpoints import Endpoint
from sale_orders_bench.scenarios import Bench, summary

RATE = 100  # samples per second

# Components by the file of the innermost Python frame: the first pattern found in the path wins.
COMPONENTS = (
    ("litestar/serialization", "serialisation (msgspec, via Litestar)"),
    ("msgspec", "serialisation (msgspec, via Litestar)"),
    ("pydantic", "pydantic (validation, model construction)"),
    ("sqlalchemy/orm", "SQLAlchemy ORM (session, hydration, loaders)"),
    ("sqlalchemy", "SQLAlchemy Core/engine/pool"),
    ("advanced_alchemy", "advanced-alchemy"),
    ("asyncpg", "driver (asyncpg)"),
    ("psycopg2", "driver (psycopg2)"),
    ("litestar", "Litestar (routing, DI, request/response)"),
    ("sale_orders", "sale_orders (our code)"),
    ("h11", "HTTP parsing (uvicorn + h11)"),
    ("uvicorn", "HTTP parsing (uvicorn + h11)"),
    ("logging", "logging (uvicorn access log)"),
    ("concurrent/futures", "thread hop (executor, futures)"),
    ("threading.py", "thread hop (executor, futures)"),
    ("queue.py", "thread hop (executor, futures)"),
    ("anyio", "thread hop (executor, futures)"),
    ("asyncio", "asyncio event loop"),
    ("decimal", "decimal"),
)
# What a sample was doing: the first marker (in this order) found anywhere in its stack names its phase.
PHASES = (
    ("encode_json (litestar/serialization", "serialise the response (msgspec)"),
    ("default_serializer (litestar/serialization", "serialise the response (msgspec)"),
    ("order_json", "encode orders (order_json)"),
    ("model_validate", "build response models (pydantic)"),
    ("do_execute (", "driver (execute; psycopg2's C time shows here)"),
    ("asyncpg", "driver (asyncpg and SQLAlchemy's adapter)"),
    ("psycopg2", "driver (execute; psycopg2's C time shows here)"),
    ("fetchall (sqlalchemy/engine/cursor.py", "driver (fetch rows)"),
    ("sqlalchemy/orm/loading.py", "ORM loading: hydrate rows into objects, selectin loads"),
    ("sqlalchemy/orm/session.py", "ORM session: transaction, execute (compile, caches)"),
    ("sqlalchemy/", "SQLAlchemy other (pool, events, engine)"),
    ("advanced_alchemy", "advanced-alchemy (session provider, before_send)"),
    ("sale_orders/family", "sale_orders handlers and services (own lines)"),
    ("sale_orders/domain", "sale_orders handlers and services (own lines)"),
    ("sync_to_thread", "thread hop (sync_to_thread, executor)"),
    ("concurrent/futures", "thread hop (sync_to_thread, executor)"),
    ("litestar/", "Litestar (routing, DI, parameters, response)"),
    ("h11", "HTTP (uvicorn + h11)"),
    ("uvicorn/protocols", "HTTP (uvicorn + h11)"),
    ("logging", "logging (uvicorn access log)"),
    ("asyncio/", "asyncio event loop"),
)


def phase(frames: list[str]) -> str:
    return next((name for marker, name in PHASES if any(marker in frame for frame in frames)), "other")


# Frames that run every request without doing its work: left out of the inclusive ranking.
PLUMBING = ("threading.py", "concurrent/futures", "runpy", "click/", "uvicorn/", "asyncio/", "sale_orders/cli.py")


def component(frame: str) -> str:
    path = frame.rsplit("(", 1)[-1]
    return next((name for pattern, name in COMPONENTS if pattern in path), f"other ({path.split(':')[0]})")


def _function(frame: str) -> str:
    """`name (path:line)` without the line, so every line of a function counts as the function."""
    return frame.rsplit(":", 1)[0] + ")" if ":" in frame else frame


def summarise(raw: Path, seconds: int, top: int = 15) -> dict[str, Any]:
    """Self time by component and by function, and inclusive time of the heaviest functions, as shares."""
    stacks: list[tuple[list[str], int]] = []
    for line in raw.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if stack and count.isdigit():
            stacks.append((stack.split(";"), int(count)))
    total = sum(samples for _, samples in stacks) or 1
    by_component: Counter[str] = Counter()
    by_phase: Counter[str] = Counter()
    self_time: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    for frames, samples in stacks:
        by_component[component(frames[-1])] += samples
        by_phase[phase(frames)] += samples
        self_time[_function(frames[-1])] += samples
        for function in {_function(frame) for frame in frames}:
            inclusive[function] += samples

    def shares(counter: Counter[str], limit: int) -> list[dict[str, Any]]:
        return [{"name": name, "percent": round(100 * n / total, 1)} for name, n in counter.most_common(limit)]

    # Frames in (nearly) every sample, and the server's and threads' plumbing, say nothing about the request.
    interesting = Counter(
        {name: n for name, n in inclusive.items() if n < 0.9 * total and not any(p in name for p in PLUMBING)}
    )
    return {
        "samples": total,
        "gil_busy_percent": round(100 * total / (RATE * seconds), 1),
        "by_phase": shares(by_phase, len(by_phase)),
        "by_component": shares(by_component, len(by_component)),
        "top_self": shares(self_time, top),
        "top_inclusive": shares(interesting, top + 10),
    }


def _py_spy() -> str:
    local = Path(sys.executable).parent / "py-spy"
    found = str(local) if local.exists() else shutil.which("py-spy")
    if found is None:
        msg = "py-spy is not installed (it is a dev dependency: uv sync)"
        raise RuntimeError(msg)
    return found


def record(pid: int, seconds: int, output: Path, fmt: str) -> None:
    command = [_py_spy(), "record", f"--pid={pid}", f"--duration={seconds}", f"--rate={RATE}", "--gil"]
    command += [f"--format={fmt}", f"--output={output}"]
    subprocess.run(command, check=True, capture_output=True, timeout=seconds + 60)


def run_profile(  # noqa: PLR0913, PLR0917 - the knobs of one profile
    bench: Bench, endpoints: list[Endpoint], families: list[str], concurrency: int, seconds: int, output: Path
) -> dict[str, Any]:
    """Profile each endpoint of each family under wrk load: a flame graph (SVG), raw stacks and a summary."""
    pid = bench.api.worker_pids()[0]
    bench.warm_up([(family, endpoint) for endpoint in endpoints for family in families])
    profiles = []
    for endpoint in endpoints:
        for family in families:
            print(f"profiling {family} {endpoint.name} c={concurrency} for 2 x {seconds} s ...", flush=True)
            base_url, load = bench.target(family, endpoint)
            with ThreadPoolExecutor(1) as pool:
                load_running = pool.submit(bench.wrk, base_url, load, concurrency, 2 * seconds + 4)
                time.sleep(2)
                name = f"profile-{endpoint.slug}-{family}"
                record(pid, seconds, output / f"{name}.txt", "raw")
                record(pid, seconds, output / f"{name}.svg", "flamegraph")
                result = load_running.result()
            print(f"  under profiling: {summary(result)}", flush=True)
            summarised = summarise(output / f"{name}.txt", seconds)
            profiles.append(
                {"endpoint": endpoint.name, "family": family, "files": name, "load": summary(result), **summarised}
            )
    return {"concurrency": concurrency, "seconds": seconds, "profiles": profiles}
