"""outbox: who claimed a row being sent (this process's instance and boot), so a restarted process
takes back at once the rows an earlier boot of itself was sending when it died

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0018'
down_revision: str | None = '0017'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.add_column(sa.Column('claimed_by', sa.String(length=160), nullable=True))


def downgrade() -> None:
    # In place, not by a batch copy: on SQLite dropping the old table would trip the foreign keys of
    # the edits that name a sent row (outbox.target_id).
    op.execute('ALTER TABLE outbox DROP COLUMN claimed_by')
