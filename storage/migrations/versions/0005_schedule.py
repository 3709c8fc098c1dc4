"""the schedule: reminders, escalation steps, claim leases, rating chases and digests as rows;
orders' appointment time, cards offered to other teams, and "no response" ratings

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0005'
down_revision: str | None = '0004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'schedule',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=32), nullable=False),
        sa.Column('order_id', sa.Integer(), nullable=True),
        sa.Column('user_id', sa.Integer(), nullable=True),
        sa.Column('team_id', sa.Integer(), nullable=True),
        sa.Column('step', sa.Integer(), nullable=False),
        sa.Column('key', sa.String(length=64), nullable=True),
        sa.Column('due_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('state', sa.String(length=16), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('result', sa.String(length=128), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('fired_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['order_id'], ['orders.id']),
        sa.ForeignKeyConstraint(['team_id'], ['teams.id']),
        sa.ForeignKeyConstraint(['user_id'], ['users.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('key'),
    )
    op.create_index('ix_schedule_due', 'schedule', ['state', 'due_at'], unique=False)
    op.create_index('ix_schedule_order', 'schedule', ['order_id', 'state'], unique=False)
    # Plain ADD COLUMN (no batch copy of ``orders``, which other tables reference).
    op.add_column('orders', sa.Column('appointment_at', sa.DateTime(timezone=True), nullable=True))
    op.add_column('orders', sa.Column('offer_cards', sa.JSON(), nullable=True))
    op.add_column('orders', sa.Column('no_response', sa.Boolean(), server_default=sa.false(), nullable=False))


def downgrade() -> None:
    op.drop_column('orders', 'no_response')
    op.drop_column('orders', 'offer_cards')
    op.drop_column('orders', 'appointment_at')
    op.drop_index('ix_schedule_order', table_name='schedule')
    op.drop_index('ix_schedule_due', table_name='schedule')
    op.drop_table('schedule')
