"""residents and notices: the company's roster, units' state, notices to residents, the
owners' satisfaction survey

A person carries a second phone (备用电话) and a residency the day they moved in; a unit is
occupied, vacant or being renovated; a binding request may ask to add someone the roster
does not have. Notices to residents (通知公告, outages among them) are kept with who received
each and who pressed 收到; a quarter's survey with the households drawn and their answers.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-04
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from storage.base import UTCDateTime

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "announcement",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("estate_id", sa.Integer(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "general",
                "water_outage",
                "power_outage",
                "lift_outage",
                name="announcementkind",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("title", sa.String(length=100), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("audience", sa.JSON(), nullable=False),
        sa.Column("emergency", sa.Boolean(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "pending_approval",
                "scheduled",
                "sent",
                "ended",
                "refused",
                "cancelled",
                name="announcementstatus",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("send_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("ends_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("approved_by_id", sa.Integer(), nullable=True),
        sa.Column("sent_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("ended_at", UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["approved_by_id"],
            ["person.id"],
            name=op.f("fk_announcement_approved_by_id_person"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["person.id"],
            name=op.f("fk_announcement_created_by_id_person"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["estate_id"],
            ["estate.id"],
            name=op.f("fk_announcement_estate_id_estate"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_announcement")),
    )
    with op.batch_alter_table("announcement", schema=None) as batch_op:
        batch_op.create_index("ix_announcement_due", ["status", "send_at"], unique=False)

    op.create_table(
        "survey",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("estate_id", sa.Integer(), nullable=False),
        sa.Column("period", sa.String(length=16), nullable=False),
        sa.Column("items", sa.JSON(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "open",
                "closed",
                name="surveystatus",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("occupied", sa.Integer(), nullable=False),
        sa.Column("opened_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("closes_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("closed_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("started_by", sa.String(length=100), nullable=False),
        sa.ForeignKeyConstraint(
            ["estate_id"],
            ["estate.id"],
            name=op.f("fk_survey_estate_id_estate"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_survey")),
        sa.UniqueConstraint("estate_id", "period", name=op.f("uq_survey_estate_id_period")),
    )
    op.create_table(
        "announcement_delivery",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("announcement_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("outbox_id", sa.Integer(), nullable=True),
        sa.Column("acknowledged_at", UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["announcement_id"],
            ["announcement.id"],
            name=op.f("fk_announcement_delivery_announcement_id_announcement"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["outbox_id"],
            ["outbox_message.id"],
            name=op.f("fk_announcement_delivery_outbox_id_outbox_message"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["person.id"],
            name=op.f("fk_announcement_delivery_person_id_person"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_announcement_delivery")),
        sa.UniqueConstraint(
            "announcement_id",
            "person_id",
            name=op.f("uq_announcement_delivery_announcement_id_person_id"),
        ),
    )
    with op.batch_alter_table("announcement_delivery", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_announcement_delivery_announcement_id"),
            ["announcement_id"],
            unique=False,
        )

    op.create_table(
        "survey_invitation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("survey_id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("asked_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("reminded_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("answered_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("answers", sa.JSON(), nullable=True),
        sa.Column("remark", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["person.id"],
            name=op.f("fk_survey_invitation_person_id_person"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["survey_id"],
            ["survey.id"],
            name=op.f("fk_survey_invitation_survey_id_survey"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["unit_id"],
            ["unit.id"],
            name=op.f("fk_survey_invitation_unit_id_unit"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_survey_invitation")),
        sa.UniqueConstraint(
            "survey_id", "unit_id", name=op.f("uq_survey_invitation_survey_id_unit_id")
        ),
    )
    with op.batch_alter_table("survey_invitation", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_survey_invitation_unit_id"), ["unit_id"], unique=False)

    with op.batch_alter_table("binding_request", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "joins_as",
                sa.Enum(
                    "owner",
                    "tenant",
                    "family",
                    name="residentrelation",
                    native_enum=False,
                    length=32,
                ),
                nullable=True,
            )
        )

    with op.batch_alter_table("person", schema=None) as batch_op:
        batch_op.add_column(sa.Column("alt_phone", sa.String(length=32), nullable=True))

    with op.batch_alter_table("residency", schema=None) as batch_op:
        batch_op.add_column(sa.Column("moved_in_on", sa.Date(), nullable=True))

    with op.batch_alter_table("estate", schema=None) as batch_op:
        batch_op.add_column(sa.Column("survey_items", sa.JSON(), nullable=True))

    with op.batch_alter_table("unit", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "state",
                sa.Enum(
                    "occupied",
                    "vacant",
                    "renovating",
                    name="unitstate",
                    native_enum=False,
                    length=32,
                ),
                nullable=False,
                server_default="occupied",
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("estate", schema=None) as batch_op:
        batch_op.drop_column("survey_items")

    with op.batch_alter_table("unit", schema=None) as batch_op:
        batch_op.drop_column("state")

    with op.batch_alter_table("residency", schema=None) as batch_op:
        batch_op.drop_column("moved_in_on")

    with op.batch_alter_table("person", schema=None) as batch_op:
        batch_op.drop_column("alt_phone")

    with op.batch_alter_table("binding_request", schema=None) as batch_op:
        batch_op.drop_column("joins_as")

    with op.batch_alter_table("survey_invitation", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_survey_invitation_unit_id"))

    op.drop_table("survey_invitation")
    with op.batch_alter_table("announcement_delivery", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_announcement_delivery_announcement_id"))

    op.drop_table("announcement_delivery")
    op.drop_table("survey")
    with op.batch_alter_table("announcement", schema=None) as batch_op:
        batch_op.drop_index("ix_announcement_due")

    op.drop_table("announcement")
