"""complaints and callbacks end to end: the owner may ask for the leadership; callbacks
that reach people

An owner filing a complaint may ask for it to be handled by the leadership (需要领导处理);
whether it is a major complaint stays the desk's judgement, so the wish is kept apart from
the severity, for the desk to confirm or change. A callback says when the owner is asked
in chat (the day after the work, not on the last day), how often the desk phoned without
an answer (未接通), when to try again, and whether the owner was in the end unreachable.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("ticket", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "leadership_requested", sa.Boolean(), server_default=sa.false(), nullable=False
            )
        )
    with op.batch_alter_table("callback", schema=None) as batch_op:
        batch_op.add_column(sa.Column("ask_at", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("asked_at", sa.DateTime(), nullable=True))
        batch_op.add_column(
            sa.Column("attempts", sa.Integer(), server_default=sa.text("0"), nullable=False)
        )
        batch_op.add_column(sa.Column("call_again_at", sa.DateTime(), nullable=True))
        batch_op.add_column(
            sa.Column("unreachable", sa.Boolean(), server_default=sa.false(), nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("callback", schema=None) as batch_op:
        batch_op.drop_column("unreachable")
        batch_op.drop_column("call_again_at")
        batch_op.drop_column("attempts")
        batch_op.drop_column("asked_at")
        batch_op.drop_column("ask_at")
    with op.batch_alter_table("ticket", schema=None) as batch_op:
        batch_op.drop_column("leadership_requested")
