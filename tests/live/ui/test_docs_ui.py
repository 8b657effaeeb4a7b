"""Swagger UI at /docs: self-contained in process, then rendered by headless Chromium from a live server, offline."""

import json
import os
import re
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import suppress
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from litestar import Litestar
from litestar.testing import TestClient
from sqlalchemy.engine import URL

from sale_orders.app import create_app
from sale_orders.family.record import FAMILY_NAMES
from tests.support.tools import require_tool

ABSOLUTE_URL = re.compile(r"https?://")
REFERENCE = re.compile(r'(?:src|href)="([^"]+)"')

# Only 127.0.0.1 resolves, so nothing the browser asks for can leave the machine.
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
    "--enable-logging=stderr",
    "--virtual-time-budget=10000",  # virtual time stands still while a request is open: the spec is in by then
    "--window-size=1280,2000",
]


def test_docs_page_is_self_contained(client: TestClient[Litestar]) -> None:
    page = client.get("/docs")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert "script-src 'self';" in page.headers["content-security-policy"]
    assert page.headers["x-content-type-options"] == "nosniff"
    initializer = client.get("/docs/swagger-initializer.js")
    for text in (page.text, initializer.text):
        assert not ABSOLUTE_URL.search(text), text

    references = REFERENCE.findall(page.text)
    assert {"/docs/assets/swagger-ui.css", "/docs/assets/swagger-ui-bundle.js"} <= set(references)
    for reference in references:
        assert reference.startswith("/"), reference
        assert not reference.startswith("//"), reference
        response = client.get(reference)
        assert response.status_code == 200, reference
        assert response.content, reference


def test_openapi_json_is_the_apps_document(client: TestClient[Litestar]) -> None:
    response = client.get("/openapi.json")
    assert response.status_code == 200
    document = response.json()
    assert {"/sync/order", "/async/order"} <= document["paths"].keys()
    assert document == client.get("/schema/openapi.json").json()
    assert not [path for path in document["paths"] if path.startswith(("/docs", "/openapi"))]


@pytest.fixture(scope="module")
def live_url(database_url: URL) -> Iterator[str]:
    """The API served by uvicorn on a free port, in a thread; its own app, since an app serves one event loop."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(create_app(database_url), log_level="warning"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [listener]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert thread.is_alive(), "uvicorn stopped while starting"
        assert time.monotonic() < deadline, "uvicorn did not start within 30 s"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)
        listener.close()


def chromium() -> str:
    return require_tool("chromium", install="apt-get update && apt-get install -y chromium")


def render(url: str, out: Path) -> tuple[str, str]:
    """Load `url` in headless Chromium; the DOM and console log, a screenshot and a NetLog are left in `out`."""
    command = [
        chromium(),
        *CHROMIUM_FLAGS,
        f"--user-data-dir={out / 'profile'}",
        f"--log-net-log={out / 'netlog.json'}",
        f"--screenshot={out / 'docs.png'}",
        "--dump-dom",
        url,
    ]
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True
    )
    try:
        dom, log = process.communicate(timeout=120)
    finally:  # its own process group: nothing it started outlives the test
        with suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()
    assert process.returncode == 0, log[-3000:]
    return dom, log


def network(netlog: Path, origin: str) -> tuple[list[str], list[str]]:
    """The URLs the page requested (the navigation and what it started) and every TCP address the browser tried."""
    log: dict[str, Any] = json.loads(netlog.read_text())
    names = {number: name for name, number in log["constants"]["logEventTypes"].items()}
    page_urls, addresses = [], []
    for event in log["events"]:
        params = event.get("params", {})
        name = names[event["type"]]
        if name == "URL_REQUEST_START_JOB" and (
            params.get("initiator") == origin or params.get("request_type") == "main frame"
        ):
            page_urls.append(params["url"])
        elif name == "TCP_CONNECT_ATTEMPT" and "address" in params:
            addresses.append(params["address"])
    return page_urls, addresses


def test_swagger_ui_renders_both_families_offline(live_url: str, tmp_path: Path) -> None:
    document = httpx.get(f"{live_url}/openapi.json").json()
    operations = [
        (operation["tags"][0], operation["operationId"])
        for path_item in document["paths"].values()
        for operation in path_item.values()
        if isinstance(operation, dict) and "operationId" in operation
    ]
    assert {*FAMILY_NAMES, "health"} == {tag for tag, _ in operations}

    dom, log = render(f"{live_url}/docs", tmp_path)

    # Swagger UI gives each operation an element with the id `operations-<tag>-<operationId>`.
    missing = [
        f"{tag}/{operation_id}"
        for tag, operation_id in operations
        if f'id="operations-{tag}-{operation_id}"' not in dom
    ]
    assert not missing, f"not rendered: {missing}"
    assert 'data-path="/sync/order"' in dom
    assert 'data-path="/async/order"' in dom
    assert [line for line in log.splitlines() if "Content Security Policy" in line] == []

    page_urls, addresses = network(tmp_path / "netlog.json", live_url)
    expected = {f"{live_url}{path}" for path in ("/docs", "/docs/assets/swagger-ui-bundle.js", "/openapi.json")}
    assert expected <= set(page_urls), page_urls
    assert [url for url in page_urls if not url.startswith(f"{live_url}/")] == []
    assert addresses
    assert set(addresses) == {live_url.removeprefix("http://")}

    screenshot = tmp_path / "docs.png"
    assert screenshot.read_bytes().startswith(b"\x89PNG"), "no screenshot"
