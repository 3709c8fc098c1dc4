"""contact retention: the volunteer's private messages of an order, and when its contact was erased

Revision ID: 0017
Revises: 0016
Create Date: 2027-01-10
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0017'
down_revision: str | None = '0016'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('orders') as batch:
        batch.add_column(sa.Column('volunteer_messages', sa.JSON(), nullable=True))
        batch.add_column(sa.Column('contact_erased_at', sa.DateTime(timezone=True), nullable=True))
    # The housekeeping pass looks for finished orders whose contact is still there, oldest first;
    # orders finished before this release are found by it too (their closing time is updated_at).
    op.create_index('ix_orders_retention', 'orders', ['contact_erased_at', 'status', 'updated_at'])


def downgrade() -> None:
    op.drop_index('ix_orders_retention', 'orders')
    # Dropped in place, not by a batch copy of the table: on SQLite a copy would drop the summaries'
    # triggers on orders (migration 0016) and trip the foreign keys of the rows that name an order.
    for column in ('contact_erased_at', 'volunteer_messages'):
        op.execute(f'ALTER TABLE orders DROP COLUMN {column}')
