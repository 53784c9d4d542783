"""patrols end to end: findings handed back, urgent, made work orders; patrol rounds

A department may hand a finding back to the desk (退回, with its reason); a finding may be
urgent (a gas or burning smell, 001 4.4.5); a repair ticket may be the work order of a
finding (转维修单). The estate file declares its patrol rounds (日检, 周检, 巡检, …), and
each round's day is recorded, area by area, or marked missed.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from storage.base import UTCDateTime

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FINDING_STATES = ("open", "fixed", "verified")


def _finding_states(*states: str) -> None:
    listed = ", ".join(f"'{state}'" for state in states)
    with op.batch_alter_table("patrol_finding", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_patrol_finding_findingstatus"), type_="check")
        batch_op.create_check_constraint(
            op.f("ck_patrol_finding_findingstatus"), sa.text(f"status IN ({listed})")
        )


def upgrade() -> None:
    op.create_table(
        "patrol_round",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("estate_id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("weekdays", sa.JSON(), nullable=False),
        sa.Column("working_days_only", sa.Boolean(), nullable=False),
        sa.Column("starts_at", sa.Time(), nullable=False),
        sa.Column("ends_at", sa.Time(), nullable=False),
        sa.Column("walkers", sa.JSON(), nullable=False),
        sa.Column("areas", sa.JSON(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["estate_id"],
            ["estate.id"],
            name=op.f("fk_patrol_round_estate_id_estate"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_patrol_round")),
        sa.UniqueConstraint("estate_id", "code", name=op.f("uq_patrol_round_estate_id_code")),
    )
    op.create_table(
        "round_visit",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("round_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "done",
                "missed",
                name="roundstatus",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("recorded_by_id", sa.Integer(), nullable=True),
        sa.Column("recorded_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("missed_at", UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["recorded_by_id"],
            ["staff_member.id"],
            name=op.f("fk_round_visit_recorded_by_id_staff_member"),
        ),
        sa.ForeignKeyConstraint(
            ["round_id"],
            ["patrol_round.id"],
            name=op.f("fk_round_visit_round_id_patrol_round"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_round_visit")),
        sa.UniqueConstraint("round_id", "day", name=op.f("uq_round_visit_round_id_day")),
    )
    op.create_index(op.f("ix_round_visit_day"), "round_visit", ["day"])
    op.create_table(
        "round_check",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("visit_id", sa.Integer(), nullable=False),
        sa.Column("area", sa.String(length=200), nullable=False),
        sa.Column("ok", sa.Boolean(), nullable=False),
        sa.Column("finding_id", sa.Integer(), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["finding_id"],
            ["patrol_finding.id"],
            name=op.f("fk_round_check_finding_id_patrol_finding"),
        ),
        sa.ForeignKeyConstraint(
            ["visit_id"],
            ["round_visit.id"],
            name=op.f("fk_round_check_visit_id_round_visit"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_round_check")),
    )
    op.create_index(op.f("ix_round_check_visit_id"), "round_check", ["visit_id"])

    with op.batch_alter_table("patrol_finding", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("urgent", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
        batch_op.add_column(sa.Column("return_reason", sa.Text(), nullable=True))
    _finding_states(*FINDING_STATES, "returned")

    with op.batch_alter_table("ticket", schema=None) as batch_op:
        batch_op.add_column(sa.Column("finding_id", sa.Integer(), nullable=True))
        batch_op.create_index(op.f("ix_ticket_finding_id"), ["finding_id"], unique=False)
        batch_op.create_foreign_key(
            op.f("fk_ticket_finding_id_patrol_finding"), "patrol_finding", ["finding_id"], ["id"]
        )


def downgrade() -> None:
    with op.batch_alter_table("ticket", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("fk_ticket_finding_id_patrol_finding"), type_="foreignkey")
        batch_op.drop_index(op.f("ix_ticket_finding_id"))
        batch_op.drop_column("finding_id")
    # A finding handed back returns to the desk's open list: 0013 knew no other state.
    op.execute("UPDATE patrol_finding SET status = 'open' WHERE status = 'returned'")
    _finding_states(*FINDING_STATES)
    with op.batch_alter_table("patrol_finding", schema=None) as batch_op:
        batch_op.drop_column("return_reason")
        batch_op.drop_column("urgent")
    op.drop_index(op.f("ix_round_check_visit_id"), table_name="round_check")
    op.drop_table("round_check")
    op.drop_index(op.f("ix_round_visit_day"), table_name="round_visit")
    op.drop_table("round_visit")
    op.drop_table("patrol_round")
