"""extensible vocabularies: no CHECK on categories, roles, departments, platforms

A company adds a repair category or a staff role as a line of code; frozen in a CHECK
from 0001, every such member was refused by the database while the tests stayed green.
The vocabularies a company extends keep no CHECK; the states of the rules keep theirs.
Platform columns become plain names, as in every other table. A downgrade restores the
0001 CHECKs, so it fails once a row holds a word added since: take such rows out first.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# (table, column, CHECK's name, the values 0001 allowed: what a downgrade restores)
PLATFORMS = ("telegram", "wechat", "wecom", "console")
DROPPED = (
    ("chat_identity", "platform", "ck_chat_identity_platform", PLATFORMS),
    ("binding_request", "platform", "ck_binding_request_platform", PLATFORMS),
    (
        "department",
        "kind",
        "ck_department_departmentkind",
        (
            "customer_service",
            "engineering",
            "security",
            "cleaning",
            "landscaping",
            "quality",
            "management",
        ),
    ),
    (
        "staff_member",
        "role",
        "ck_staff_member_staffrole",
        (
            "customer_service",
            "engineering",
            "security",
            "cleaning",
            "landscaping",
            "supervisor",
            "project_manager",
            "quality_specialist",
        ),
    ),
    (
        "patrol_finding",
        "category",
        "ck_patrol_finding_patrolcategory",
        (
            "security_hazard",
            "public_facility",
            "cleanliness",
            "landscaping",
            "renovation_violation",
            "fire_violation",
            "vacant_unit",
            "other",
        ),
    ),
    ("residency", "relation", "ck_residency_residentrelation", ("owner", "tenant", "family")),
    (
        "ticket",
        "category",
        "ck_ticket_repaircategory",
        (
            "lift",
            "fire_safety",
            "gas",
            "access_control",
            "water_leak",
            "plumbing",
            "electrical",
            "door_lock",
            "wall_ceiling",
            "public_area",
            "other",
        ),
    ),
    ("attachment", "kind", "ck_attachment_attachmentkind", ("photo", "voice")),
    ("callback", "channel", "ck_callback_callbackchannel", ("phone", "visit", "chat")),
)


def upgrade() -> None:
    for table, column, check, _values in DROPPED:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_constraint(op.f(check), type_="check")
            if column == "platform":
                batch_op.alter_column(
                    column, existing_type=sa.String(length=32), type_=sa.String(length=16)
                )


def downgrade() -> None:
    for table, column, check, values in DROPPED:
        with op.batch_alter_table(table, schema=None) as batch_op:
            if column == "platform":
                batch_op.alter_column(
                    column, existing_type=sa.String(length=16), type_=sa.String(length=32)
                )
            listed = ", ".join(f"'{value}'" for value in values)
            batch_op.create_check_constraint(op.f(check), sa.text(f"{column} IN ({listed})"))
