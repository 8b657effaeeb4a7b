"""The benchmark's report says what `--metrics` captured, per family, in results.md as in results.json."""

from sale_orders_bench.report import metrics_markdown


def test_the_metrics_of_a_run_are_a_table_per_family() -> None:
    captured = {
        "sync": {"requests": 1234.0, "errors_5xx": 0.0, "max_db_pool_in_use": 16.0, "max_db_pool_waiting": 0.0,
                 "max_thread_pool_busy": 16.0, "max_thread_pool_queued": 58.0},
        "async": {"requests": 5678.0, "errors_5xx": 2.0, "max_db_pool_in_use": 16.0, "max_db_pool_waiting": 48.0,
                  "max_thread_pool_busy": 0.0, "max_thread_pool_queued": 0.0},
    }  # fmt: skip
    lines = metrics_markdown(captured)
    assert "| sync | 1,234 | 0 | 16 | 0 | 16 | 58 |" in lines
    assert "| async | 5,678 | 2 | 16 | 48 | 0 | 0 |" in lines
