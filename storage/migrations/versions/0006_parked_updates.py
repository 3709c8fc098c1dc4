"""parked updates: inbound updates that could not be handled, kept for an operator to replay or drop

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0006'
down_revision: str | None = '0005'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'parked_updates',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('update_id', sa.BigInteger(), nullable=False),
        sa.Column('kind', sa.String(length=32), nullable=False),
        sa.Column('error_type', sa.String(length=64), nullable=False),
        sa.Column('reason', sa.String(length=256), nullable=False),
        sa.Column('payload', sa.JSON(), nullable=False),
        sa.Column('state', sa.String(length=16), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('parked_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('failed_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('update_id'),
    )
    op.create_index('ix_parked_updates_state', 'parked_updates', ['state', 'id'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_parked_updates_state', table_name='parked_updates')
    op.drop_table('parked_updates')
