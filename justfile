# The verbs of this project; each is a thin call to the `sale-orders` CLI or a tool. `uv run just --list` shows them.
# .ci/run calls these same recipes.

# serve the API (embedded PostgreSQL unless DATABASE_URL is set)
serve *ARGS:
    uv run sale-orders serve {{ARGS}}

# run the whole test suite (the README's test command)
test *ARGS:
    uv run pytest {{ARGS}}

# lint and type-check
lint:
    uv run ruff check .
    uv run ruff format --check .
    uv run mypy

# format the code
fmt:
    uv run ruff check --fix .
    uv run ruff format .

# regenerate the sync family (family/_sync/) from the async one
twin:
    uv run sale-orders twin

# apply database migrations
db-upgrade:
    uv run sale-orders db upgrade

# fill the database with demo data
demo-data ORDERS="10000":
    uv run sale-orders demo-data --orders {{ORDERS}}

# regenerate contracts/openapi.json from the app
spec:
    uv run sale-orders openapi

# lint contracts/openapi.json with Redocly and Spectral (pinned in contracts/package.json: `npm ci --prefix contracts`)
spec-lint:
    cd contracts && ./node_modules/.bin/redocly lint --config redocly.yaml openapi.json
    cd contracts && ./node_modules/.bin/spectral lint -r .spectral.yaml --fail-severity warn openapi.json

# regenerate the Python SDK in clients/python from contracts/openapi.json
client:
    uv run sale-orders client

# everything CI runs
ci:
    bash .ci/run

# Schemathesis CLI against a live scratch server (or --url URL), 200 examples per operation
contract *ARGS:
    uv run sale-orders contract {{ARGS}}

# a benchmark: `just bench matrix` (both families against a raw asyncpg ceiling; `--quick` for a smoke run),
# `just bench network`, ...: `just bench --help` lists the measurements
bench *ARGS:
    uv run sale-orders bench {{ARGS}}

# where a request's time goes: the stack's layers between the ceiling and the API
ladder *ARGS:
    uv run sale-orders bench ladder {{ARGS}}

# the API at git ref REV against the working tree, side by side (alternating runs, medians)
ab REV *ARGS:
    uv run sale-orders bench ab {{REV}} {{ARGS}}

# the API on several hosts under faults (`just lab --quick` for the CI run)
lab *ARGS:
    uv run sale-orders lab run {{ARGS}}
