"""Alembic environment: runs migrations on the engine the application hands over."""

from __future__ import annotations

from alembic import context

from content_queue.tables import metadata

engine = context.config.attributes.get("engine")
if engine is None:  # `alembic` command line: build one from the ini url
    from content_queue.db import create_engine_for

    url = context.config.get_main_option("sqlalchemy.url")
    assert url, "sqlalchemy.url is not set"
    engine = create_engine_for(url)

with engine.connect() as connection:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()
    connection.commit()
