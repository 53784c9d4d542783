"""indexes for the daily figures

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("callback", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_callback_done_at"), ["done_at"], unique=False)

    with op.batch_alter_table("patrol_finding", schema=None) as batch_op:
        batch_op.create_index(
            "ix_patrol_finding_estate_created", ["estate_id", "created_at"], unique=False
        )
        batch_op.create_index(
            "ix_patrol_finding_estate_fixed", ["estate_id", "fixed_at"], unique=False
        )

    with op.batch_alter_table("ticket", schema=None) as batch_op:
        batch_op.create_index("ix_ticket_estate_created", ["estate_id", "created_at"], unique=False)
        batch_op.create_index("ix_ticket_estate_done", ["estate_id", "done_at"], unique=False)
        batch_op.create_index("ix_ticket_estate_replied", ["estate_id", "replied_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("ticket", schema=None) as batch_op:
        batch_op.drop_index("ix_ticket_estate_replied")
        batch_op.drop_index("ix_ticket_estate_done")
        batch_op.drop_index("ix_ticket_estate_created")

    with op.batch_alter_table("patrol_finding", schema=None) as batch_op:
        batch_op.drop_index("ix_patrol_finding_estate_fixed")
        batch_op.drop_index("ix_patrol_finding_estate_created")

    with op.batch_alter_table("callback", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_callback_done_at"))
