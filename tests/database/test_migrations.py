"""The Alembic migrations build exactly the schema the models describe, and can be undone."""

import multiprocessing
import subprocess
import sys
from multiprocessing.synchronize import Barrier as BarrierType

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, inspect
from sqlalchemy.engine import URL, make_url

from sale_orders.db.drivers import with_driver
from sale_orders.db.migrate import alembic_config, upgrade
from sale_orders.db.tables import metadata
from tests.support.database import query
from tests.support.servers import clean_env


def test_migrated_schema_matches_the_models(database_url: URL) -> None:
    engine = create_engine(with_driver(database_url, "psycopg2"))
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, metadata)
    engine.dispose()
    assert differences == [], "models and migrations differ: run `uv run sale-orders db revision -m '...'`"


def test_downgrade_to_base_and_upgrade_again(tmp_database: URL) -> None:
    upgrade(tmp_database)
    upgrade_engine = create_engine(with_driver(tmp_database, "psycopg2"))
    tables = set(inspect(upgrade_engine).get_table_names())
    assert {"contact", "product", "tag", "sale_order", "sale_order_line", "sale_order_tag", "idempotency_key"} <= tables
    command.downgrade(alembic_config(tmp_database), "base")
    assert set(inspect(upgrade_engine).get_table_names()) == {"alembic_version"}
    upgrade(tmp_database)
    assert set(inspect(upgrade_engine).get_table_names()) == tables
    upgrade_engine.dispose()


def _upgrade_after(barrier: BarrierType, url: str) -> None:
    barrier.wait(timeout=60)
    upgrade(make_url(url))


def test_upgrades_started_at_the_same_moment_apply_the_schema_once(tmp_database: URL) -> None:
    """Processes released together race on a fresh database; the migration lock serialises them."""
    spawn = multiprocessing.get_context("spawn")
    barrier = spawn.Barrier(4)
    url = tmp_database.render_as_string(hide_password=False)
    processes = [spawn.Process(target=_upgrade_after, args=(barrier, url)) for _ in range(4)]
    for process in processes:
        process.start()
    for process in processes:
        process.join(timeout=120)
    assert [process.exitcode for process in processes] == [0, 0, 0, 0]
    head = ScriptDirectory.from_config(alembic_config(tmp_database)).get_current_head()
    assert query(tmp_database, "SELECT version_num FROM alembic_version") == [(head,)]


def test_concurrent_db_upgrade_commands_on_a_fresh_database_all_succeed(tmp_database: URL) -> None:
    """Several hosts starting at once: each `db upgrade` waits for the migration lock, none fails."""
    env = clean_env(DATABASE_URL=tmp_database.render_as_string(hide_password=False))
    command = [sys.executable, "-m", "sale_orders.cli", "db", "upgrade"]
    processes = [subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT) for _ in range(3)]
    outputs = [process.communicate(timeout=120)[0].decode() for process in processes]
    assert [process.returncode for process in processes] == [0, 0, 0], "\n".join(outputs)
    head = ScriptDirectory.from_config(alembic_config(tmp_database)).get_current_head()
    assert query(tmp_database, "SELECT version_num FROM alembic_version") == [(head,)]


def test_order_keys_stored_before_0004_keep_answering_their_retries(tmp_database: URL) -> None:
    """0004: an order's key stored the whole answer; it now stores the order's id and (id, name) of its tags."""
    command.upgrade(alembic_config(tmp_database), "0003")
    whole_answer = '{"id": 7, "name": "SO1", "contact_id": 1, "order_lines": [], "amount_total": 0, "tags": %s}'
    for key, tags in [("two-tags", '[{"id": 3, "name": "b"}, {"id": 2, "name": "a"}]'), ("no-tags", "[]")]:
        query(
            tmp_database,
            "INSERT INTO idempotency_key (scope, key, fingerprint, response) VALUES ('order', %s, 'f', %s) RETURNING 1",
            (key, whole_answer % tags),
        )
    upgrade(tmp_database)
    stored = dict(query(tmp_database, "SELECT key, response FROM idempotency_key ORDER BY key"))
    assert stored == {"two-tags": {"id": 7, "tags": [[3, "b"], [2, "a"]]}, "no-tags": {"id": 7, "tags": []}}
    command.downgrade(alembic_config(tmp_database), "0003")
    assert query(tmp_database, "SELECT count(*) FROM idempotency_key") == [(0,)]
