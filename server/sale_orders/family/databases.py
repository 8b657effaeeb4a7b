"""Each family's engine and sessions: one advanced-alchemy configuration per family, one plugin for both.

Both are derived from one URL and the settings, family by family (`record.FAMILIES`); what differs between
them (driver, pool, session classes, config classes) is in the record. Pools are sized by settings: the sync pool
to the thread pool (a thread never waits for a connection that another idle thread holds), the async pool to what
one event loop can keep busy. No overflow: a request that cannot get a connection within `POOL_TIMEOUT` is a 503.
"""

from collections.abc import Mapping
from typing import Any

from advanced_alchemy.extensions.litestar import EngineConfig, SQLAlchemyAsyncConfig, SQLAlchemyPlugin
from advanced_alchemy.extensions.litestar import SQLAlchemySyncConfig as SyncConfig
from sqlalchemy import Engine
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.pool import AsyncAdaptedQueuePool, Pool

from sale_orders.db.failover import connect_one_host_at_a_time, treat_read_only_as_disconnect
from sale_orders.family.reads import StandbyReads
from sale_orders.family.record import FAMILIES, Family
from sale_orders.family.runtime.session_configs import AUTOCOMMIT, SINGLE_STATEMENT
from sale_orders.features import Feature
from sale_orders.settings import Settings

DatabaseConfig = SyncConfig | SQLAlchemyAsyncConfig

# advanced-alchemy's session listeners serve features this app does not use (file objects, timestamps, its
# cache); left on, they would run on every commit.
_NO_LISTENERS: dict[str, Any] = {"enable_file_object_listener": False, "enable_touch_updated_timestamp_listener": False}
_NO_CACHE_LISTENER: dict[str, Any] = {"enable_cache_listener": False}


def pool_class(family: Family, settings: Settings) -> type[Pool]:
    """The family's pool; SQLAlchemy's own for asyncio where `FEATURES` leaves the fair pool out (the ladder)."""
    if Feature.FAIR_POOL in settings.enabled or not issubclass(family.pool_class, AsyncAdaptedQueuePool):
        return family.pool_class
    return AsyncAdaptedQueuePool


def database_config(family: Family, url: URL, settings: Settings) -> DatabaseConfig:
    """The advanced-alchemy configuration of one family's engine and sessions, for the server at `url`."""
    closer: dict[str, Any] = {}  # advanced-alchemy's own before_send handler unless the family has one
    if family.session_closer is not None:
        closer["before_send_handler"] = family.session_closer(family.session_scope_key)
    return family.database_config(
        connection_string=family.driver.url(url).render_as_string(hide_password=False),
        create_engine_callable=family.driver.create_engine,  # type: ignore[arg-type]  # the record pairs them
        engine_config=EngineConfig(
            poolclass=pool_class(family, settings),
            pool_size=family.pool_size(settings),
            connect_args=family.driver.connect_args(settings),
            pool_timeout=settings.pool_timeout,
            pool_pre_ping=settings.pool_pre_ping,
            max_overflow=0,
        ),
        # expire_on_commit=False: reading an attribute after commit would reload it (MissingGreenlet in async code).
        session_config=family.session_config(
            class_=family.session_class,  # type: ignore[arg-type]  # the config class and its session class agree
            expire_on_commit=False,
            autoflush=False,
            info={**_NO_CACHE_LISTENER, SINGLE_STATEMENT: AUTOCOMMIT if family.driver.autocommits(settings) else {}},
        ),
        **_NO_LISTENERS,
        session_dependency_key=family.session_key,
        engine_dependency_key=family.engine_key,
        engine_app_state_key=family.engine_key,
        session_maker_app_state_key=family.session_maker_key,
        session_scope_key=family.session_scope_key,
        set_default_exception_handler=False,
        **closer,
    )


def database_configs(url: URL, settings: Settings) -> dict[str, DatabaseConfig]:
    """Every family's configuration, by family name."""
    return {family.name: database_config(family, url, settings) for family in FAMILIES}


def database_plugin(configs: Mapping[str, DatabaseConfig]) -> SQLAlchemyPlugin:
    """One advanced-alchemy plugin managing every family's engine and sessions."""
    return SQLAlchemyPlugin(config=list(configs.values()))


def prepare_engines(configs: Mapping[str, DatabaseConfig], settings: Settings) -> None:
    """Give every family's engine what it needs before it serves.

    Its driver's deadline and keepalives (`Driver.prepare_engine`), and what a failover asks of a pool
    (`db/failover.py`): a read-only server's connection thrown away, each host of a multi-host URL tried in turn.
    """
    for family in FAMILIES:
        engine = configs[family.name].get_engine()
        family.driver.prepare_engine(engine, settings)
        treat_read_only_as_disconnect(engine)
        connect_one_host_at_a_time(engine)


def standby_reads(family: Family, settings: Settings) -> tuple[StandbyReads, Engine | AsyncEngine | None]:
    """Where `family`'s reads may go (`READ_DATABASE_URL`), and the standby engine to dispose of at shutdown.

    The standby's engine is the family's driver's, with its own pool of the family's size: a read on the standby
    holds a standby connection, not one of the primary's.
    """
    url = settings.standby_url
    if url is None:
        return StandbyReads(family.name), None
    engine = family.driver.create_engine(
        family.driver.url(url).render_as_string(hide_password=False),
        poolclass=pool_class(family, settings),
        pool_size=family.pool_size(settings),
        max_overflow=0,
        pool_timeout=settings.pool_timeout,
        pool_pre_ping=settings.pool_pre_ping,
        connect_args=family.driver.connect_args(settings),
    )
    family.driver.prepare_engine(engine, settings)
    connect_one_host_at_a_time(engine)
    bind = engine.sync_engine if isinstance(engine, AsyncEngine) else engine
    return StandbyReads(family.name, bind, settings.max_staleness_ms), engine
