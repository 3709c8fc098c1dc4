"""remembered residents: a resident's own name, phone and address from their last request (a
building leader's requests for neighbours never write them), the request dialog's draft counter
(for the buttons' draft token), and an order's photo

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0008'
down_revision: str | None = '0007'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

USER_COLUMNS = (
    ('home_name', sa.String(length=128)),
    ('home_phone', sa.String(length=32)),
    ('home_community', sa.String(length=128)),
    ('home_building', sa.String(length=128)),
    ('home_detail', sa.String(length=256)),
)


def upgrade() -> None:
    for name, kind in USER_COLUMNS:
        op.add_column('users', sa.Column(name, kind, nullable=True))
    op.add_column('users', sa.Column('request_drafts', sa.Integer(), server_default=sa.text('0'), nullable=False))
    op.add_column('orders', sa.Column('photo_file_id', sa.String(length=256), nullable=True))


def downgrade() -> None:
    op.drop_column('orders', 'photo_file_id')
    op.drop_column('users', 'request_drafts')
    for name, _kind in reversed(USER_COLUMNS):
        op.drop_column('users', name)
