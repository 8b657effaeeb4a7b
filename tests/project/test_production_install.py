"""A production install (`uv sync --no-dev`, as in the Docker image) has the runtime verbs only, and serves."""

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from sale_orders_tools.harness.servers import STOPPED_BY_SIGTERM, free_port, start
from tests.support import REPO_ROOT

RUNTIME_VERBS = {"serve", "db", "idempotency", "api-key"}
# The workspace members installed with the dev group only: the tools and harness, the fault proxy, the lab, the bench.
DEV_PACKAGES = ("sale_orders_tools", "sale_orders_faultproxy", "sale_orders_lab", "sale_orders_bench")


@pytest.fixture(scope="module")
def production_environment(tmp_path_factory: pytest.TempPathFactory) -> Path:
    uv = os.environ.get("UV") or shutil.which("uv")
    assert uv, "uv is not on PATH"
    venv = tmp_path_factory.mktemp("production") / "venv"
    env = {key: value for key, value in os.environ.items() if key not in {"VIRTUAL_ENV", "PYTHONPATH"}}
    subprocess.run(
        [uv, "sync", "--locked", "--no-dev", "--no-editable", "--quiet"],
        cwd=REPO_ROOT,
        env={**env, "UV_PROJECT_ENVIRONMENT": str(venv)},
        check=True,
        timeout=300,
    )
    return venv


def test_it_lists_only_the_runtime_verbs(production_environment: Path) -> None:
    result = subprocess.run(
        [production_environment / "bin" / "sale-orders", "--help"], capture_output=True, text=True, check=True
    )
    listed = {line.split()[0] for line in result.stdout.split("Commands:", 1)[1].splitlines() if line.strip()}
    assert listed == RUNTIME_VERBS
    for package in DEV_PACKAGES:
        assert list(production_environment.glob(f"lib/python3*/site-packages/{package}")) == [], package


def test_it_serves_on_an_embedded_postgres(production_environment: Path, tmp_path: Path) -> None:
    port = free_port()
    env = {
        "PATH": os.environ["PATH"],
        "HOME": os.environ.get("HOME", str(tmp_path)),
        "DATA_DIR": str(tmp_path / "data"),
        "API_KEYS": "",
    }
    command = [str(production_environment / "bin" / "sale-orders"), "serve", "--port", str(port), "--no-access-log"]
    server = start(command, port=port, log=tmp_path / "serve.log", env=env, cwd=tmp_path)
    try:
        assert server.healthy()
    finally:
        assert server.stop() in STOPPED_BY_SIGTERM, server.log.read_text()
