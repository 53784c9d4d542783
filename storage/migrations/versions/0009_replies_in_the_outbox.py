"""replies in the outbox: a message's replies are written with its step

The replies a message produces are kept in the outbox in the same transaction as the
step they answer, with their buttons, and keyed by the message they answer: a crash
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


NOT_NULL = sa.text("recipient_id IS NOT NULL")


def upgrade() -> None:
    with op.batch_alter_table("outbox_message") as table:
        table.add_column(sa.Column("buttons", sa.JSON(), nullable=True))
        table.add_column(sa.Column("in_reply_to", sa.String(length=200), nullable=True))
        # Replies, a row or two for every message, have no recipient: the index of notices
        # by recipient leaves them out rather than growing with every reply.
        table.drop_index("ix_outbox_message_recipient_id")
        table.create_index(
            "ix_outbox_message_recipient_id",
            ["recipient_id"],
            sqlite_where=NOT_NULL,
            postgresql_where=NOT_NULL,
        )


def downgrade() -> None:
    with op.batch_alter_table("outbox_message") as table:
        table.drop_index("ix_outbox_message_recipient_id")
        table.create_index("ix_outbox_message_recipient_id", ["recipient_id"])
        table.drop_column("in_reply_to")
        table.drop_column("buttons")
