"""The folder where `serve`'s worker processes share their metrics (prometheus_client's multiprocess mode).

prometheus_client reads PROMETHEUS_MULTIPROC_DIR when it is imported, so this is set before any worker
imports the app. Nothing here imports prometheus_client: `serve` itself must not load it before then.
"""

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ENVIRONMENT_VARIABLE = "PROMETHEUS_MULTIPROC_DIR"


@contextmanager
def shared_metrics_directory(configured: Path | None, workers: int) -> Iterator[Path | None]:
    """Set PROMETHEUS_MULTIPROC_DIR for the workers; yield it (None: one worker, no folder needed).

    The folder is emptied first: the counters of an earlier run would otherwise add up with this one's.
    Without `configured` it is a temporary folder of this run's, removed when the block ends.
    """
    if configured is not None:
        configured.mkdir(parents=True, exist_ok=True)
        for stale in configured.glob("*.db"):
            stale.unlink()
        os.environ[ENVIRONMENT_VARIABLE] = str(configured)
        yield configured
        return
    if workers <= 1:
        yield None
        return
    with tempfile.TemporaryDirectory(prefix="sale-orders-metrics-") as scratch:
        os.environ[ENVIRONMENT_VARIABLE] = scratch
        try:
            yield Path(scratch)
        finally:
            del os.environ[ENVIRONMENT_VARIABLE]
