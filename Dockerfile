# syntax=docker/dockerfile:1
# The Sale Orders API: `docker build -t sale-orders .`, then run it against a PostgreSQL given by DATABASE_URL
# (see docker-compose.yml and .env.example). Two stages: uv builds the virtual environment, the final image
# holds only that environment on the same Python, without uv, the sources or the dev tools.

ARG PYTHON_VERSION=3.11

FROM python:${PYTHON_VERSION}-slim AS build
COPY --from=ghcr.io/astral-sh/uv:0.13.9 /uv /uvx /bin/
# Compile bytecode now (faster starts), copy out of the cache mount, use this image's Python (never download
# one: the final stage must find the same interpreter), and build the environment where the final stage expects it.
ENV UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_PYTHON_DOWNLOADS=0 \
    UV_PROJECT_ENVIRONMENT=/app/.venv
WORKDIR /src
# Dependencies first, from the lock file only: this layer survives changes to the code. `--frozen` because the
# workspace members (clients/python) are not here yet to check the lock against; the next step checks it.
RUN --mount=type=cache,target=/root/.cache/uv \
    --mount=type=bind,source=uv.lock,target=uv.lock \
    --mount=type=bind,source=pyproject.toml,target=pyproject.toml \
    uv sync --frozen --no-dev --no-install-workspace
# Then the project itself, installed as a regular (non-editable) package so the sources need not follow.
# `--locked` fails the build when uv.lock is out of date with pyproject.toml.
COPY . /src
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --locked --no-dev --no-editable


FROM python:${PYTHON_VERSION}-slim
RUN groupadd --system --gid 10001 app \
    && useradd --system --uid 10001 --gid app --create-home --home-dir /home/app app \
    && mkdir -p /app/.data \
    && chown app:app /app/.data
COPY --from=build /app/.venv /app/.venv
ENV PATH="/app/.venv/bin:${PATH}" \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1
# Settings read `.env` from the working directory; none is baked in (see .dockerignore), pass the
# environment instead. Without DATABASE_URL the app would start an embedded PostgreSQL in DATA_DIR (.data).
WORKDIR /app
# Numeric, so that runtimes (e.g. Kubernetes runAsNonRoot) can tell it is not root without reading /etc/passwd.
USER 10001:10001
EXPOSE 8000
# /health answers 200 only when the database answers too; urllib raises (exit 1) on 503 or no answer.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/health', timeout=4)"]
# `serve` applies the migrations before it starts serving (see sale_orders/cli.py). Exec form: no shell in
# between, the server itself gets SIGTERM from `docker stop` (run with `--init`, or compose's `init: true`,
# to also have signals during the migrations and zombie children reaped).
CMD ["sale-orders", "serve", "--host", "0.0.0.0", "--port", "8000"]
