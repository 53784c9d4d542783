"""replies in the outbox: a message's replies are written with its step

The replies a message produces are kept in the outbox in the same transaction as the
step they answer, with their buttons, and marked with the message they answer: a crash
between the commit and the send leaves them there, for the dispatcher (after a lease) or
for the platform's redelivery of that message to send, once.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("outbox_message") as table:
        table.add_column(sa.Column("buttons", sa.JSON(), nullable=True))
        table.add_column(sa.Column("in_reply_to", sa.String(length=200), nullable=True))
        table.create_index("ix_outbox_message_in_reply_to", ["in_reply_to"])


def downgrade() -> None:
    with op.batch_alter_table("outbox_message") as table:
        table.drop_index("ix_outbox_message_in_reply_to")
        table.drop_column("in_reply_to")
        table.drop_column("buttons")
