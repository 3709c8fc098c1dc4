"""roster volunteers: registry number, community, skills, source; user_id optional

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29

Existing volunteers all came through the bot: the new NOT NULL columns are filled for them by
temporary server defaults, which are dropped again (the models declare none).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0002'
down_revision: str | None = '0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('volunteers', schema=None) as batch_op:
        batch_op.add_column(sa.Column('registry_number', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('community', sa.String(length=128), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('skills', sa.JSON(), nullable=False, server_default=sa.text("'[]'")))
        batch_op.add_column(sa.Column('source', sa.String(length=8), nullable=False, server_default='bot'))
        batch_op.alter_column('user_id',
               existing_type=sa.INTEGER(),
               nullable=True)
        batch_op.create_index('ix_volunteers_phone', ['phone'], unique=False)
        batch_op.create_index('ix_volunteers_registry_number', ['registry_number'], unique=True)
    with op.batch_alter_table('volunteers', schema=None) as batch_op:
        batch_op.alter_column('community', existing_type=sa.String(length=128), server_default=None)
        batch_op.alter_column('skills', existing_type=sa.JSON(), server_default=None)
        batch_op.alter_column('source', existing_type=sa.String(length=8), server_default=None)


def downgrade() -> None:
    # Roster volunteers without a Telegram account cannot survive user_id becoming NOT NULL again.
    op.execute("DELETE FROM volunteers WHERE user_id IS NULL")
    with op.batch_alter_table('volunteers', schema=None) as batch_op:
        batch_op.drop_index('ix_volunteers_registry_number')
        batch_op.drop_index('ix_volunteers_phone')
        batch_op.alter_column('user_id',
               existing_type=sa.INTEGER(),
               nullable=False)
        batch_op.drop_column('source')
        batch_op.drop_column('skills')
        batch_op.drop_column('community')
        batch_op.drop_column('registry_number')
