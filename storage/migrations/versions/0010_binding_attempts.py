"""failed binding attempts: wrong codes and unit + phone answers, to pause guessing

One row per wrong answer, with who answered, when, and the unit when it exists; never
the code or the phone typed. The rows that count are the last quarter-hour's (the
setting's pause); a clock job forgets them after a day.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "failed_binding",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("platform", sa.String(length=16), nullable=False),
        sa.Column("external_id", sa.String(length=128), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=True),
        sa.Column("failed_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["unit_id"],
            ["unit.id"],
            name=op.f("fk_failed_binding_unit_id_unit"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_failed_binding")),
    )
    with op.batch_alter_table("failed_binding", schema=None) as batch_op:
        batch_op.create_index(
            "ix_failed_binding_account", ["platform", "external_id", "failed_at"], unique=False
        )
        batch_op.create_index("ix_failed_binding_unit", ["unit_id", "failed_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("failed_binding", schema=None) as batch_op:
        batch_op.drop_index("ix_failed_binding_unit")
        batch_op.drop_index("ix_failed_binding_account")
    op.drop_table("failed_binding")
