"""Where a family's reads may go besides the primary: a standby, when `READ_DATABASE_URL` names one.

A read goes to the standby first, which refuses it (SQLSTATE `SOS01`) unless it is fresh enough for the read's
consistency token (`db/queries/standby.py`); a refused read, or one whose standby cannot be reached, runs on the
primary. `sale_orders_reads_total` counts where each read was answered.
"""

from dataclasses import dataclass, field
from typing import Any

from prometheus_client import Counter
from sqlalchemy import Engine

from sale_orders.db.errors import Failure, classify
from sale_orders.db.queries.standby import is_stale_standby

READS = Counter(
    "sale_orders_reads", "Reads (GET of a resource or a page) by where they were answered", ["family", "served_by"]
)


@dataclass(frozen=True)
class StandbyReads:
    """A family's standby for reads, if any.

    Attributes:
        family: the family's name (for the metrics).
        bind: the standby's engine as the family's sessions bind engines (the async family's sessions bind the
            sync engine inside the `AsyncEngine`); None: every read on the primary.
        max_staleness_ms: how far behind a standby may be for a read without a token.
    """

    family: str
    bind: Engine | None = None
    max_staleness_ms: int = 1000
    _counters: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    def parameters(self, token: int | None) -> dict[str, Any]:
        """The parameters `standby.on_standby` adds to a read."""
        return {"consistency_token": token, "max_staleness_ms": self.max_staleness_ms}

    def served(self, by: str) -> None:
        """Count a read answered by `by` (`standby` or `primary`)."""
        counter = self._counters.get(by)
        if counter is None:
            counter = self._counters[by] = READS.labels(self.family, by)
        counter.inc()


def falls_back_to_primary(exc: BaseException) -> bool:
    """Whether a read that failed on the standby runs on the primary: it was refused, or the standby is away."""
    return is_stale_standby(exc) or classify(exc) in {Failure.UNAVAILABLE, Failure.TOO_SLOW}
