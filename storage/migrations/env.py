"""Alembic environment: migrations run on the engine the application already built."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Engine

import storage.models  # noqa: F401  (registers every table on the metadata)
from storage.base import Base

engine = context.config.attributes.get("engine")
if not isinstance(engine, Engine):
    raise RuntimeError("run migrations through storage.database.Database.upgrade()")

with engine.connect() as connection:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()
    connection.commit()
