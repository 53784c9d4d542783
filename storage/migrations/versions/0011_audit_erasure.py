"""audit erasure: a person's erasure may rewrite names and notes in the trail, nothing else

The audit trail stays append-only, with one exception the law asks for (个人信息保护法):
while a row of ``audit_erasure`` exists (an erasure adds it and removes it in its own
transaction, so no other transaction sees it), an UPDATE of ``audit_event`` may change
``note``, and ``actor_label`` of the erased person's own lines; every other column, and
every DELETE, is still refused.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-04
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

REFUSED = "audit trail is append-only"
# The columns an erasure never changes, compared NULL-safely (SQLite's IS, PostgreSQL's
# IS NOT DISTINCT FROM).
KEPT = ("id", "object_type", "object_id", "from_state", "to_state", "actor_id", "at")


def _erasing(same: str) -> str:
    """The condition under which an UPDATE of audit_event is let through."""
    kept = " AND ".join(f"NEW.{column} {same} OLD.{column}" for column in KEPT)
    return (  # built from the constants above alone: nothing here comes from outside
        f"EXISTS (SELECT 1 FROM audit_erasure) AND {kept} AND ("  # noqa: S608
        "NEW.actor_label = OLD.actor_label"
        # Never NULL: in SQLite a NULL condition would let the UPDATE through.
        " OR (OLD.actor_id IS NOT NULL"
        " AND OLD.actor_id IN (SELECT person_id FROM audit_erasure)))"
    )


def upgrade() -> None:
    op.create_table(
        "audit_erasure",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["person.id"],
            name=op.f("fk_audit_erasure_person_id_person"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_erasure")),
    )
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TRIGGER audit_event_no_update")
        op.execute(
            "CREATE TRIGGER audit_event_no_update BEFORE UPDATE ON audit_event "
            f"WHEN NOT ({_erasing('IS')}) "
            f"BEGIN SELECT RAISE(ABORT, '{REFUSED}'); END"
        )
        return
    op.execute(
        "CREATE OR REPLACE FUNCTION audit_event_append_only() RETURNS trigger "
        "LANGUAGE plpgsql AS $$ BEGIN "
        f"IF TG_OP = 'UPDATE' AND {_erasing('IS NOT DISTINCT FROM')} THEN RETURN NEW; END IF; "
        f"RAISE EXCEPTION '{REFUSED}'; END $$"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TRIGGER audit_event_no_update")
        op.execute(
            "CREATE TRIGGER audit_event_no_update BEFORE UPDATE ON audit_event "
            f"BEGIN SELECT RAISE(ABORT, '{REFUSED}'); END"
        )
    else:
        op.execute(
            "CREATE OR REPLACE FUNCTION audit_event_append_only() RETURNS trigger "
            f"LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION '{REFUSED}'; END $$"
        )
    op.drop_table("audit_erasure")
