"""Development tools of the Sale Orders API, never installed in production (a uv workspace member, dev group).

`cli` adds the development verbs to `sale-orders`; `contract` writes the OpenAPI contract and generates the SDK
from it; `twin` generates the sync family; `demo` loads demo data; `harness` runs the API to test or measure it
(scratch databases, child servers, gauges), for the tests, the benchmark and the lab.
"""
