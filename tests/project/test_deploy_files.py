"""The deployment files agree with the code: Dockerfile, docker-compose.yml, .dockerignore and .env.example.

Docker itself is not needed: these read the files, and compare them with the CLI and the settings. Where an engine
would check them, two linters from PyPI do (pinned dev dependencies, both offline): check-jsonschema validates the
compose file against the compose specification's JSON schema, and hadolint lints the Dockerfile (.hadolint.yaml).
"""

import json
import re
import shlex
import subprocess
import sysconfig
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy.engine import make_url

from sale_orders.app.health import health
from sale_orders.settings import Settings
from tests.support import REPO_ROOT

ROOT = REPO_ROOT
PORT = "8000"
ALL_INTERFACES = "0.0.0.0"  # noqa: S104  the container must listen beyond its own loopback
COMPOSE_VARIABLES = {"POSTGRES_USER", "POSTGRES_PASSWORD", "POSTGRES_DB"}
INTERPOLATION = re.compile(r"\$\$|\$\{(\w+)(?:(:?[-?])([^}]*))?\}")
ASSIGNMENT = re.compile(r"^#?\s*([A-Z][A-Z0-9_]*)=(.*)$")


def _read(name: str) -> str:
    path = ROOT / name
    assert path.is_file(), f"{name} is missing"
    return path.read_text(encoding="utf-8")


def _lint(program: str, *arguments: str) -> None:
    """Run a linter installed beside this Python in the repository's root; fail with its output unless it passes."""
    executable = Path(sysconfig.get_path("scripts")) / program
    assert executable.is_file(), f"{program} is missing: `uv sync` installs it (the dev group)"
    result = subprocess.run([executable, *arguments], cwd=ROOT, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        pytest.fail(f"{program} {' '.join(arguments)} exited {result.returncode}:\n{result.stdout}{result.stderr}")


def _command(value: Any) -> list[str]:
    """A compose command or entrypoint, string or list, as its words."""
    if value is None:
        return []
    if isinstance(value, str):
        return shlex.split(value)
    assert isinstance(value, list), value
    return [str(word) for word in value]


# --- Dockerfile ---------------------------------------------------------------------------------------------------


def _instructions() -> list[tuple[str, str]]:
    """The Dockerfile's instructions as (KEYWORD, arguments), continuation lines joined, comments dropped."""
    logical: list[str] = []
    current = ""
    for raw in _read("Dockerfile").splitlines():
        line = raw.strip()
        if not current and (not line or line.startswith("#")):
            continue
        if line.endswith("\\"):
            current += line[:-1] + " "
            continue
        logical.append(current + line)
        current = ""
    assert not current, "the Dockerfile ends in a line continuation"
    return [(keyword.upper(), arguments.strip()) for keyword, _, arguments in (line.partition(" ") for line in logical)]


def _final_stage() -> list[tuple[str, str]]:
    instructions = _instructions()
    last_from = max(index for index, (keyword, _) in enumerate(instructions) if keyword == "FROM")
    return instructions[last_from:]


def _exec_form(arguments: str) -> list[str]:
    words = json.loads(arguments)
    assert isinstance(words, list), arguments
    assert all(isinstance(word, str) for word in words), arguments
    return words


def test_dockerfile_uses_slim_python_and_uv_from_its_image() -> None:
    instructions = _instructions()
    bases = [arguments.split()[0] for keyword, arguments in instructions if keyword == "FROM"]
    assert bases, "no FROM"
    assert all(re.fullmatch(r"python:(\$\{PYTHON_VERSION\}|3\.1[12])-slim", base) for base in bases), bases
    args = {arguments for keyword, arguments in instructions if keyword == "ARG"}
    if any("${PYTHON_VERSION}" in base for base in bases):
        assert {"PYTHON_VERSION=3.11", "PYTHON_VERSION=3.12"} & args, args
    copies = [arguments for keyword, arguments in instructions if keyword == "COPY"]
    assert any(re.search(r"--from=ghcr\.io/astral-sh/uv(:\S+)?\s", copy) for copy in copies), copies
    runs = " ".join(arguments for keyword, arguments in instructions if keyword == "RUN")
    assert re.search(r"uv sync (--\S+ )*--locked (--\S+ )*--no-dev", runs) or re.search(
        r"uv sync (--\S+ )*--no-dev (--\S+ )*--locked", runs
    ), runs


def test_dockerfile_runs_the_server_as_a_non_root_user_on_the_exposed_port() -> None:
    final = _final_stage()
    users = [arguments for keyword, arguments in final if keyword == "USER"]
    assert users, "the final stage runs as root"
    assert users[-1].split(":")[0] not in {"root", "0"}, users[-1]
    exposed = {port for keyword, arguments in final if keyword == "EXPOSE" for port in arguments.split()}
    assert PORT in exposed, exposed

    commands = [arguments for keyword, arguments in final if keyword in {"CMD", "ENTRYPOINT"}]
    assert commands, "no CMD or ENTRYPOINT"
    # Exec form, so the server is PID 1 and gets SIGTERM from `docker stop`.
    words = [word for command in commands for word in _exec_form(command)]
    assert words[:2] == ["sale-orders", "serve"], words
    assert words[words.index("--host") + 1] == ALL_INTERFACES, "the default 127.0.0.1 is unreachable from outside"
    assert words[words.index("--port") + 1] == PORT, words


def test_dockerfile_healthcheck_asks_the_health_endpoint() -> None:
    checks = [arguments for keyword, arguments in _final_stage() if keyword == "HEALTHCHECK"]
    assert len(checks) == 1, checks
    assert f"127.0.0.1:{PORT}/health" in checks[0] or f"localhost:{PORT}/health" in checks[0], checks[0]
    assert "/health" in health.paths, health.paths


def test_hadolint_finds_nothing_in_the_dockerfile() -> None:
    _lint("hadolint", "--config", ".hadolint.yaml", "--no-color", "Dockerfile")


def test_dockerignore_keeps_secrets_and_local_state_out_but_not_the_project() -> None:
    patterns = {line.strip().rstrip("/") for line in _read(".dockerignore").splitlines()}
    patterns.discard("")
    assert {".git", ".venv", ".data", ".env"} <= patterns, patterns
    needed = {"pyproject.toml", "uv.lock", "README.md", "server", "server/sale_orders", "*", "**", "*.toml", "*.lock"}
    assert not needed & patterns, needed & patterns
    # `uv sync --locked` reads every workspace member's pyproject.toml: none may be left out of the context.
    pyproject = tomllib.loads(_read("pyproject.toml"))
    for member in pyproject.get("tool", {}).get("uv", {}).get("workspace", {}).get("members", []):
        parts = Path(member).parts
        excluded = {"/".join(parts[: length + 1]) for length in range(len(parts))} & patterns
        assert not excluded, f"workspace member {member} is excluded by {excluded}"


# --- docker-compose.yml -------------------------------------------------------------------------------------------


def test_compose_file_follows_the_compose_specification() -> None:
    _lint("check-jsonschema", "--builtin-schema", "vendor.compose-spec", "docker-compose.yml")


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    document = yaml.safe_load(_read("docker-compose.yml"))
    assert isinstance(document, dict), document
    assert {"db", "api"} <= set(document.get("services", {})), document.get("services")
    return document


def test_db_is_postgres_18_with_a_pg_isready_healthcheck_and_a_named_volume(compose: dict[str, Any]) -> None:
    db = compose["services"]["db"]
    assert re.fullmatch(r"postgres:18(\.\d+)*(-[a-z0-9.]+)?", db["image"]), db["image"]
    test = db["healthcheck"]["test"]
    words = _command(test)
    assert words[0] in {"CMD", "CMD-SHELL"}, words
    assert "pg_isready" in " ".join(words), words

    environment = db["environment"]
    assert set(environment) >= COMPOSE_VARIABLES, environment
    for name in COMPOSE_VARIABLES:
        assert f"${{{name}" in environment[name], f"{name} should come from .env"

    # postgres:18 keeps its data under /var/lib/postgresql/18/docker and refuses a mount at the old .../data.
    mounts = [str(volume).split(":") for volume in db["volumes"]]
    assert any(source in compose.get("volumes", {}) and target == "/var/lib/postgresql" for source, target in mounts)


def _interpolate(text: str, environment: dict[str, str]) -> str:
    """Compose's `${NAME}`, `${NAME:-default}`, `${NAME-default}`, `${NAME:?error}`, `${NAME?error}` and `$$`."""

    def substitute(match: re.Match[str]) -> str:
        if match.group(0) == "$$":
            return "$"
        name, operator, argument = match.groups()
        value = environment.get(name)
        if operator in {":-", ":?"} and not value:
            value = None
        if value is not None:
            return value
        if operator and operator.endswith("?"):
            raise LookupError(f"{name}: {argument}")
        return argument or ""

    return INTERPOLATION.sub(substitute, text)


def test_api_waits_for_a_healthy_db(compose: dict[str, Any]) -> None:
    api = compose["services"]["api"]
    assert api["build"] in (".", {"context": "."}), api["build"]
    assert api["depends_on"]["db"]["condition"] == "service_healthy", api["depends_on"]
    assert f"{PORT}:{PORT}" in [str(port) for port in api["ports"]], api["ports"]


@pytest.mark.parametrize(
    "environment",
    [
        {"POSTGRES_USER": "orders_user", "POSTGRES_PASSWORD": "s3cret-pw", "POSTGRES_DB": "orders_db"},
        {"POSTGRES_PASSWORD": "s3cret-pw"},  # the defaults of user and database must agree too
    ],
    ids=["set", "defaults"],
)
def test_api_url_names_the_db_service_and_its_credentials(compose: dict[str, Any], environment: dict[str, str]) -> None:
    db = {name: _interpolate(value, environment) for name, value in compose["services"]["db"]["environment"].items()}
    assert {name: db[name] for name in environment} == environment

    url = make_url(_interpolate(compose["services"]["api"]["environment"]["DATABASE_URL"], environment))
    assert url.get_backend_name() == "postgresql", url
    assert (url.host, url.port or 5432) == ("db", 5432), url
    assert (url.username, url.password, url.database) == (
        db["POSTGRES_USER"],
        db["POSTGRES_PASSWORD"],
        db["POSTGRES_DB"],
    )


def test_compose_requires_a_postgres_password(compose: dict[str, Any]) -> None:
    """No default password: compose refuses to start until .env (or the shell) sets one."""
    for value in (
        compose["services"]["db"]["environment"]["POSTGRES_PASSWORD"],
        compose["services"]["api"]["environment"]["DATABASE_URL"],
    ):
        with pytest.raises(LookupError, match="POSTGRES_PASSWORD"):
            _interpolate(value, {})


def test_api_command_serves_on_all_interfaces(compose: dict[str, Any]) -> None:
    api = compose["services"]["api"]
    words = _command(api.get("entrypoint")) + _command(api.get("command"))
    assert "sale-orders" in words, words
    serve = words.index("serve")
    assert words[serve - 1] == "sale-orders", words
    assert words[words.index("--host", serve) + 1] == ALL_INTERFACES, words
    assert words[words.index("--port", serve) + 1] == PORT, words


# --- .env.example -------------------------------------------------------------------------------------------------


def _example() -> dict[str, tuple[str, bool]]:
    """Each variable of .env.example: its value, and whether the line is active (not commented out)."""
    variables: dict[str, tuple[str, bool]] = {}
    for line in _read(".env.example").splitlines():
        if match := ASSIGNMENT.match(line.strip()):
            name, value = match.groups()
            assert name not in variables, f"{name} is listed twice"
            variables[name] = (value.strip(), not line.lstrip().startswith("#"))
    return variables


def test_env_example_documents_exactly_the_settings_and_the_compose_variables() -> None:
    fields = {name.upper() for name in Settings.model_fields}
    listed = set(_example())
    assert listed - COMPOSE_VARIABLES <= fields, f"not settings: {sorted(listed - COMPOSE_VARIABLES - fields)}"
    assert fields <= listed, f"settings missing from .env.example: {sorted(fields - listed)}"
    assert listed >= COMPOSE_VARIABLES, f"compose variables missing: {sorted(COMPOSE_VARIABLES - listed)}"


def test_env_example_values_are_valid_settings() -> None:
    example = _example()
    # Strings, as the environment gives them: pydantic-settings parses each into its field's type.
    values: dict[str, Any] = {
        name.lower(): value for name, (value, _) in example.items() if name not in COMPOSE_VARIABLES
    }
    settings = Settings(_env_file=None, **values)
    assert settings.configured_url is not None
    assert settings.configured_url.drivername == "postgresql"


def test_env_example_leaves_the_app_on_its_defaults() -> None:
    """Copied as-is, .env.example must not point a local `sale-orders serve` at a server that is not there."""
    active = {name for name, (_, is_active) in _example().items() if is_active}
    assert active <= COMPOSE_VARIABLES, f"uncommented settings: {sorted(active - COMPOSE_VARIABLES)}"
    assert all(value for name, (value, _) in _example().items() if name in active), "empty active variable"
