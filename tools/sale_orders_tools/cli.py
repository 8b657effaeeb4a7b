"""The development verbs of `sale-orders`: contract and SDK, contract runs, the sync twin, demo data.

Each is a click command registered under the `sale_orders.commands` entry point group (tools/pyproject.toml),
which `sale_orders.cli` adds to its group when this package is installed: a production install has none of them.
"""

import os
import subprocess
import sys
from pathlib import Path

import click

from sale_orders.db.embedded import configured_or_embedded
from sale_orders.family.record import FAMILIES


@click.command("demo-data")
@click.option("--orders", default=10_000, show_default=True, help="orders to add (1-5 lines and 0-3 tags each)")
@click.option("--seed", default=1, show_default=True, help="random seed: the same seed gives the same data")
def demo_data(orders: int, seed: int) -> None:
    """Fill the configured (or embedded) database with realistic demo data, fast (COPY)."""
    from rich.progress import Progress  # noqa: PLC0415

    from sale_orders.cli import settings_or_exit  # noqa: PLC0415 - sale_orders.cli imports this module
    from sale_orders.db.migrate import upgrade  # noqa: PLC0415
    from sale_orders_tools.demo import DemoSize, load_demo_data  # noqa: PLC0415

    size = DemoSize.for_orders(orders)
    with configured_or_embedded(settings_or_exit()) as url, Progress(transient=False) as progress:
        upgrade(url)
        task = progress.add_task(f"loading {orders:,} orders", total=orders)
        load_demo_data(url, size, seed=seed, progress=lambda done: progress.update(task, completed=done))
    click.echo(
        f"added {size.contacts:,} contacts, {size.products:,} products, {size.tags} tags, {orders:,} orders", err=True
    )


@click.command()
@click.option("--output", type=click.Path(path_type=Path), default=Path("contracts/openapi.json"), show_default=True)
def openapi(output: Path) -> None:
    """Write the OpenAPI contract (deterministic: the same app gives the same bytes)."""
    from sale_orders_tools.contract import write_contract  # noqa: PLC0415

    write_contract(output)
    click.echo(f"wrote {output}", err=True)


@click.command()
@click.option("--output", type=click.Path(path_type=Path), default=Path("clients/python"), show_default=True)
def client(output: Path) -> None:
    """Regenerate the Python SDK from contracts/openapi.json (pinned generator, zero warnings allowed)."""
    from sale_orders_tools.contract import generate_client  # noqa: PLC0415

    click.echo(generate_client(output).strip(), err=True)
    click.echo(f"wrote {output}", err=True)


def _family_paths(index: int) -> str:
    """The `--include-path-regex` of one family's run; the first also takes /health."""
    family = FAMILIES[index]
    return f"^/({family.name}/|health)" if index == 0 else f"^/{family.name}/"


@click.command(context_settings={"ignore_unknown_options": True, "allow_extra_args": True})
@click.option("--url", help="base URL of the deployment to test; default: a scratch `serve` on a free port")
@click.option("--max-examples", default=200, show_default=True, help="examples per operation")
@click.pass_context
def contract(ctx: click.Context, url: str | None, max_examples: int) -> None:
    """Run Schemathesis (schemathesis.toml) on contracts/openapi.json against a live server, one family at a time.

    Extra arguments go to `schemathesis run` (e.g. `--seed 1`, `--workers 4`, `--report junit`). With --url, a
    write key of that deployment comes from SALE_ORDERS_API_KEY (never an option: a command line is visible to
    every user of the machine); a scratch server gets a fresh key.
    """
    from sale_orders.web.auth import api_key_digest, new_api_key  # noqa: PLC0415
    from sale_orders_tools.harness.servers import scratch_server  # noqa: PLC0415

    def run(base_url: str, key: str) -> int:
        # One run per family: Schemathesis tracks deleted resources by path, so a contact deleted through
        # /sync would look lost to a request through /async. tests/database/contract covers the families together.
        codes = []
        for index in range(len(FAMILIES)):
            command = [
                str(Path(sys.executable).with_name("schemathesis")),
                "--config-file=schemathesis.toml",
                "run",
                "contracts/openapi.json",
                f"--url={base_url}",
                f"--include-path-regex={_family_paths(index)}",
                f"--max-examples={max_examples}",
                *ctx.args,
            ]
            click.echo(" ".join(command), err=True)
            # The key reaches Schemathesis through the environment, never through a command line or a log.
            env = {**os.environ, "SALE_ORDERS_API_KEY": key}
            codes.append(subprocess.call(command, env=env))  # noqa: S603 - our own tool
        return max(codes)

    if url is not None:
        api_key = os.environ.get("SALE_ORDERS_API_KEY")
        if not api_key:
            raise click.UsageError("testing a deployment needs one of its write keys: set SALE_ORDERS_API_KEY")
        sys.exit(run(url.rstrip("/"), api_key))
    key = new_api_key()
    with scratch_server(env={"API_KEYS": f"write:{api_key_digest(key)}"}) as base_url:
        code = run(base_url, key)
    sys.exit(code)


@click.command()
@click.option("--check", is_flag=True, help="change nothing; exit 1 if family/_sync/ differs from what it would be")
def twin(check: bool) -> None:
    """Regenerate the sync family (family/_sync/) from the async one (family/_async/) with unasyncd."""
    from sale_orders_tools import twin as generator  # noqa: PLC0415

    if check:
        stale = generator.stale_files()
        if stale:
            raise click.ClickException(f"family/_sync/ is stale ({', '.join(stale)}): run `just twin` and commit it")
        click.echo("family/_sync/ is current", err=True)
        return
    generator.generate()
    click.echo(f"wrote {generator.TWIN}", err=True)
