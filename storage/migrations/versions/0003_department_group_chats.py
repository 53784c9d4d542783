"""department group chats

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "department_chat",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("department_id", sa.Integer(), nullable=False),
        sa.Column("platform", sa.String(length=16), nullable=False),
        sa.Column("chat_id", sa.String(length=128), nullable=False),
        sa.Column("linked_by_id", sa.Integer(), nullable=True),
        sa.Column("linked_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["department_id"],
            ["department.id"],
            name=op.f("fk_department_chat_department_id_department"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["linked_by_id"],
            ["person.id"],
            name=op.f("fk_department_chat_linked_by_id_person"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_department_chat")),
        sa.UniqueConstraint(
            "platform", "chat_id", name=op.f("uq_department_chat_platform_chat_id")
        ),
    )
    with op.batch_alter_table("department_chat", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_department_chat_department_id"), ["department_id"], unique=False
        )

    with op.batch_alter_table("outbox_message", schema=None) as batch_op:
        batch_op.add_column(sa.Column("platform", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("chat_id", sa.String(length=128), nullable=True))
        batch_op.alter_column("recipient_id", existing_type=sa.INTEGER(), nullable=True)
        batch_op.create_index(
            batch_op.f("ix_outbox_message_recipient_id"), ["recipient_id"], unique=False
        )
        # A notice goes to a person or straight to a group chat, never both or neither.
        batch_op.create_check_constraint(
            "one_destination",
            "(recipient_id IS NOT NULL) <> (chat_id IS NOT NULL AND platform IS NOT NULL)",
        )


def downgrade() -> None:
    with op.batch_alter_table("outbox_message", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_outbox_message_one_destination"), type_="check")
        batch_op.drop_index(batch_op.f("ix_outbox_message_recipient_id"))
        batch_op.alter_column("recipient_id", existing_type=sa.INTEGER(), nullable=False)
        batch_op.drop_column("chat_id")
        batch_op.drop_column("platform")

    with op.batch_alter_table("department_chat", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_department_chat_department_id"))

    op.drop_table("department_chat")
