"""repairs end to end: urgency, the channel a report came by, a deadline for every stage,
the desk's hours and the duty roster

A repair is urgent (紧急维修) or not; it records how it reached the estate (电话, 来访,
书面, or the chat platform) and who registered it. Each stage has its deadline: dispatched
by (the desk's working day; an urgent one: accepted within minutes), on site by (urgent),
finished by (``due_at``, as before for rework). The technician's expected time is kept
as they said it. Each estate has its desk's hours; the duty roster (值班表) says who is on
duty for a department, by weekday or on a date, and in which shift. A message for the desk
(留言: 咨询、建议) is a ticket kind of its own.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


KIND_FIELDS = (
    "(kind = 'repair' AND category IS NOT NULL AND severity IS NULL)"
    " OR (kind = 'complaint' AND severity IS NOT NULL)"
)
MESSAGE_FIELDS = " OR (kind = 'message' AND category IS NULL AND severity IS NULL)"


def _ticket_kinds(*kinds: str, fields: str) -> None:
    listed = ", ".join(f"'{kind}'" for kind in kinds)
    with op.batch_alter_table("ticket", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_ticket_ticketkind"), type_="check")
        batch_op.drop_constraint(op.f("ck_ticket_kind_fields"), type_="check")
        batch_op.create_check_constraint(
            op.f("ck_ticket_ticketkind"), sa.text(f"kind IN ({listed})")
        )
        batch_op.create_check_constraint(op.f("ck_ticket_kind_fields"), sa.text(fields))


def upgrade() -> None:
    _ticket_kinds("repair", "complaint", "message", fields=KIND_FIELDS + MESSAGE_FIELDS)
    with op.batch_alter_table("ticket", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("urgent", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.add_column(sa.Column("channel", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("dispatch_due_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("arrive_due_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("arrived_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("expected_time", sa.String(length=100), nullable=True))
    with op.batch_alter_table("estate", schema=None) as batch_op:
        for column, default in (
            ("desk_opens_workday", "08:30:00"),
            ("desk_closes_workday", "18:00:00"),
            ("desk_opens_rest_day", "09:00:00"),
            ("desk_closes_rest_day", "17:00:00"),
        ):
            batch_op.add_column(
                sa.Column(column, sa.Time(), nullable=False, server_default=default)
            )
    op.create_table(
        "duty_shift",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("estate_id", sa.Integer(), nullable=False),
        sa.Column("department_id", sa.Integer(), nullable=False),
        sa.Column("staff_id", sa.Integer(), nullable=False),
        sa.Column("weekday", sa.Integer(), nullable=True),
        sa.Column("on_date", sa.Date(), nullable=True),
        sa.Column("starts", sa.Time(), nullable=False),
        sa.Column("ends", sa.Time(), nullable=False),
        sa.CheckConstraint(
            "(weekday IS NULL) <> (on_date IS NULL)", name=op.f("ck_duty_shift_one_kind_of_day")
        ),
        sa.CheckConstraint(
            "weekday IS NULL OR (weekday >= 0 AND weekday <= 6)",
            name=op.f("ck_duty_shift_weekday_range"),
        ),
        sa.ForeignKeyConstraint(
            ["estate_id"],
            ["estate.id"],
            name=op.f("fk_duty_shift_estate_id_estate"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["department_id"],
            ["department.id"],
            name=op.f("fk_duty_shift_department_id_department"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["staff_id"],
            ["staff_member.id"],
            name=op.f("fk_duty_shift_staff_id_staff_member"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_duty_shift")),
    )
    with op.batch_alter_table("duty_shift", schema=None) as batch_op:
        batch_op.create_index("ix_duty_shift_estate", ["estate_id", "department_id"])


def downgrade() -> None:
    with op.batch_alter_table("duty_shift", schema=None) as batch_op:
        batch_op.drop_index("ix_duty_shift_estate")
    op.drop_table("duty_shift")
    with op.batch_alter_table("estate", schema=None) as batch_op:
        for column in (
            "desk_closes_rest_day",
            "desk_opens_rest_day",
            "desk_closes_workday",
            "desk_opens_workday",
        ):
            batch_op.drop_column(column)
    with op.batch_alter_table("ticket", schema=None) as batch_op:
        for column in (
            "expected_time",
            "arrived_at",
            "arrive_due_at",
            "dispatch_due_at",
            "channel",
            "urgent",
        ):
            batch_op.drop_column(column)
    # Before messages had a kind of their own, the desk kept them as complaints.
    op.execute("UPDATE ticket SET kind = 'complaint', severity = 'general' WHERE kind = 'message'")
    _ticket_kinds("repair", "complaint", fields=KIND_FIELDS)
