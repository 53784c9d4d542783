"""complaints and callbacks end to end: the owner may ask for the leadership; callbacks
that reach people

An owner filing a complaint may ask for it to be handled by the leadership (需要领导处理);
whether it is a major complaint stays the desk's judgement, so the wish is kept apart from
the severity, for the desk to confirm or change. A callback says when the owner is asked
in chat (the day after the work, not on the last day), how often the desk phoned without
an answer (未接通), when to try again, and whether the owner was in the end unreachable.
An estate may correct China's calendar of working days (a local holiday, a day worked).

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
    op.create_table(
        "quality_check",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("callback_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("period", sa.String(length=16), nullable=False),
        sa.Column("drawn_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("done_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("recorded_by_id", sa.Integer(), nullable=True),
        sa.Column(
            "satisfaction",
            sa.Enum(
                "satisfied",
                "fairly_satisfied",
                "unsatisfied",
                name="satisfaction",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=True,
        ),
        sa.Column("note", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["callback_id"],
            ["callback.id"],
            name=op.f("fk_quality_check_callback_id_callback"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by_id"], ["person.id"], name=op.f("fk_quality_check_recorded_by_id_person")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_quality_check")),
        sa.UniqueConstraint(
            "callback_id", "kind", "period", name=op.f("uq_quality_check_callback_id_kind_period")
        ),
    )
    op.create_index(op.f("ix_quality_check_done_at"), "quality_check", ["done_at"], unique=False)
    with op.batch_alter_table("estate", schema=None) as batch_op:
        batch_op.add_column(sa.Column("calendar", sa.JSON(), nullable=True))
    with op.batch_alter_table("ticket", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "leadership_requested", sa.Boolean(), server_default=sa.false(), nullable=False
            )
        )
    with op.batch_alter_table("callback", schema=None) as batch_op:
        batch_op.add_column(sa.Column("ask_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("asked_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(
            sa.Column("attempts", sa.Integer(), server_default=sa.text("0"), nullable=False)
        )
        batch_op.add_column(sa.Column("call_again_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(
            sa.Column("unreachable", sa.Boolean(), server_default=sa.false(), nullable=False)
        )


def downgrade() -> None:
    op.drop_index(op.f("ix_quality_check_done_at"), table_name="quality_check")
    op.drop_table("quality_check")
    with op.batch_alter_table("estate", schema=None) as batch_op:
        batch_op.drop_column("calendar")
    with op.batch_alter_table("callback", schema=None) as batch_op:
        batch_op.drop_column("unreachable")
        batch_op.drop_column("call_again_at")
        batch_op.drop_column("attempts")
        batch_op.drop_column("asked_at")
        batch_op.drop_column("ask_at")
    with op.batch_alter_table("ticket", schema=None) as batch_op:
        batch_op.drop_column("leadership_requested")
