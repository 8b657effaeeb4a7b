"""What stops a benchmark: a measurement that cannot be trusted."""


class HarnessError(RuntimeError):
    """A measurement that cannot be trusted: a server did not start, an endpoint failed during warm-up, ..."""
