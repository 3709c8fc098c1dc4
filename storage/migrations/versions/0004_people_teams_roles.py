"""people, teams and roles: volunteer profiles, team leaders, sub-teams, buildings and their
leaders, orders placed for a neighbour, quiet hours, command menus; phones in one form

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29

New columns are added with plain ALTER TABLE ADD COLUMN (a batch copy of ``users`` would break the
foreign keys other tables hold on it under SQLite, which allows a REFERENCES clause there).

Mainland mobile numbers stored bare (``13800138000``) become ``+8613800138000``, the form
:func:`bot.domain.phones.normalise_phone` gives from now on, so that a contact shared from
Telegram and a number typed or imported match.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0004'
down_revision: str | None = '0003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _add_building_reference(table: str) -> None:
    """``building_id`` referencing ``buildings``: SQLite takes the REFERENCES clause in ADD COLUMN
    but alembic will not emit it there."""
    if op.get_bind().dialect.name == 'sqlite':
        op.execute(sa.text(f'ALTER TABLE {table} ADD COLUMN building_id INTEGER REFERENCES buildings (id)'))
    else:
        op.add_column(table, sa.Column('building_id', sa.Integer(), nullable=True))
        op.create_foreign_key(f'fk_{table}_building_id', table, 'buildings', ['building_id'], ['id'])


def upgrade() -> None:
    op.create_table(
        'buildings',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('code', sa.String(length=32), nullable=False),
        sa.Column('community', sa.String(length=128), nullable=False),
        sa.Column('name', sa.String(length=128), nullable=False),
        sa.Column('leader_id', sa.Integer(), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['leader_id'], ['users.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('code'),
    )
    op.create_table(
        'subteams',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('team_id', sa.Integer(), nullable=False),
        sa.Column('skill', sa.String(length=32), nullable=False),
        sa.Column('name', sa.String(length=64), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['team_id'], ['teams.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('team_id', 'skill'),
    )
    op.add_column('users', sa.Column('quiet_start', sa.Integer(), nullable=True))
    op.add_column('users', sa.Column('quiet_end', sa.Integer(), nullable=True))
    _add_building_reference('users')
    op.add_column('users', sa.Column('menu_roles', sa.String(length=128), server_default='', nullable=False))
    op.add_column('volunteers', sa.Column('occupation', sa.String(length=64), server_default='', nullable=False))
    op.add_column('volunteers', sa.Column('hobbies', sa.String(length=128), server_default='', nullable=False))
    op.add_column('volunteers', sa.Column('kind', sa.String(length=16), server_default='resident', nullable=False))
    op.add_column('volunteers', sa.Column('availability', sa.JSON(), nullable=True))
    op.add_column('volunteers', sa.Column('organisation', sa.String(length=128), server_default='', nullable=False))
    op.add_column('volunteers', sa.Column('is_leader', sa.Boolean(), server_default=sa.false(), nullable=False))
    op.add_column('orders', sa.Column('on_behalf', sa.Boolean(), server_default=sa.false(), nullable=False))
    _add_building_reference('orders')
    for table, column in (('volunteers', 'phone'), ('orders', 'contact_phone')):
        op.execute(sa.text(f"UPDATE {table} SET {column} = '+86' || {column} "
                           f"WHERE length({column}) = 11 AND {column} LIKE '1%'"))


def downgrade() -> None:
    for table, column in (('volunteers', 'phone'), ('orders', 'contact_phone')):
        op.execute(sa.text(f"UPDATE {table} SET {column} = substr({column}, 4) "
                           f"WHERE length({column}) = 14 AND {column} LIKE '+861%'"))
    op.drop_column('orders', 'building_id')
    op.drop_column('orders', 'on_behalf')
    for column in ('is_leader', 'organisation', 'availability', 'kind', 'hobbies', 'occupation'):
        op.drop_column('volunteers', column)
    for column in ('menu_roles', 'building_id', 'quiet_end', 'quiet_start'):
        op.drop_column('users', column)
    op.drop_table('subteams')
    op.drop_table('buildings')
