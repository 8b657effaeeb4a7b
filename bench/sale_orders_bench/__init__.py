"""The benchmark harness of the Sale Orders API: `sale-orders bench <measurement>` (bench/README.md).

It measures the `def` and the `async def` families under load with wrk, against a raw asyncpg ceiling, layer by
layer, two versions against each other, or with PostgreSQL milliseconds away. Dev-only: a uv workspace member
installed with the dev group, like the tools, the lab and the fault proxy it uses.

- `cli` (the subcommands) and `options` (their defaults); `session` (one run: results folder, scratch database
  with demo data, servers, exit status) and `jobs` (what each subcommand measures);
- what is measured: `endpoints` (the catalogue of benchmarked endpoints), `wrk` (the load, with `lua/`),
  `scenarios` (the matrix, scale, leak, workers), `ladder_runs`, `ab` and `versions`, `profiling`, `network/`
  (behind the delay proxy) and `sizing` (the sizing rule), `wrappers` (in process);
- what is served: `servers` (the API, the ceiling and the ladder as child servers, on the shared harness
  `sale_orders_tools.harness`), `ceiling` and `ladder/` (benchmark-only apps, never part of the API);
- what is written: `report`, `report_ab`, `report_ladder`, `report_network`; `machine` (the machine and its noise).
"""
