"""estate notice times

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("estate", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("digest_time", sa.Time(), nullable=False, server_default="18:30:00")
        )
        batch_op.add_column(
            sa.Column("briefing_time", sa.Time(), nullable=False, server_default="08:30:00")
        )


def downgrade() -> None:
    with op.batch_alter_table("estate", schema=None) as batch_op:
        batch_op.drop_column("briefing_time")
        batch_op.drop_column("digest_time")
