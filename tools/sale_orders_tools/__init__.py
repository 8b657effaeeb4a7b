"""Development tools of the Sale Orders API, never installed in production (a uv workspace member, dev group).

`cli` adds the development verbs to `sale-orders`; `contract` writes the OpenAPI contract and generates the SDK
from it; `servers` starts and stops servers as child processes; `scratch` makes throw-away databases; `demo`
loads demo data; `scrape` reads /metrics around a block of work.
"""
