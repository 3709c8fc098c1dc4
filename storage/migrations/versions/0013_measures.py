"""the measures: households per building or community, the households reached, an order's first
accept and last done, and the indexes a period's rates are read from

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0013'
down_revision: str | None = '0012'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

events = sa.table('order_events', sa.column('order_id', sa.Integer()), sa.column('event', sa.String()),
                  sa.column('created_at', sa.DateTime(timezone=True)))
orders = sa.table('orders', sa.column('id', sa.Integer()), sa.column('accepted_at', sa.DateTime(timezone=True)),
                  sa.column('done_at', sa.DateTime(timezone=True)), sa.column('resident_id', sa.Integer()),
                  sa.column('on_behalf', sa.Boolean()), sa.column('community', sa.String()),
                  sa.column('building', sa.String()), sa.column('address_detail', sa.String()),
                  sa.column('building_id', sa.Integer()), sa.column('created_at', sa.DateTime(timezone=True)))
users = sa.table('users', sa.column('id', sa.Integer()), sa.column('building_id', sa.Integer()),
                 sa.column('created_at', sa.DateTime(timezone=True)))
buildings = sa.table('buildings', sa.column('id', sa.Integer()), sa.column('community', sa.String()))
reached = sa.table('reached_households', sa.column('key', sa.String()), sa.column('community', sa.String()),
                   sa.column('building_id', sa.Integer()), sa.column('reached_at', sa.DateTime(timezone=True)))


def _from_events(event: str, pick: sa.sql.functions.Function[object]) -> sa.ScalarSelect[object]:
    return (sa.select(pick).where(events.c.order_id == orders.c.id, events.c.event == event).scalar_subquery())


def upgrade() -> None:
    op.create_table(
        'household_counts',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('community', sa.String(length=128), nullable=False),
        sa.Column('building_id', sa.Integer(), nullable=True),
        sa.Column('households', sa.Integer(), nullable=False),
        sa.Column('updated_by', sa.Integer(), nullable=True),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['building_id'], ['buildings.id']),
        sa.ForeignKeyConstraint(['updated_by'], ['users.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('community', 'building_id'),
    )
    with op.batch_alter_table('orders') as batch:
        batch.add_column(sa.Column('accepted_at', sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column('done_at', sa.DateTime(timezone=True), nullable=True))
    # Orders of earlier releases: the audit log says when they were first accepted and last done.
    op.execute(orders.update().values(accepted_at=_from_events('accepted', sa.func.min(events.c.created_at)),
                                      done_at=_from_events('done', sa.func.max(events.c.created_at))))
    op.create_index('ix_orders_measures', 'orders', ['created_at', 'status', 'round', 'team_id', 'community',
                                                     'building_id', 'resident_id', 'no_response', 'accepted_at',
                                                     'done_at'])
    op.create_index('ix_ratings_time', 'ratings', ['created_at', 'order_id', 'stars'])
    op.create_index('ix_volunteers_measures', 'volunteers', ['user_id', 'status', 'team_id', 'community'])
    op.create_table(
        'reached_households',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('key', sa.String(length=420), nullable=False),
        sa.Column('community', sa.String(length=128), nullable=False),
        sa.Column('building_id', sa.Integer(), nullable=True),
        sa.Column('reached_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('key'),
    )
    op.create_index('ix_reached_time', 'reached_households', ['reached_at', 'community', 'building_id'])
    # The households reached so far: every address asked for, and who came by a building's link
    # and has asked for nothing.
    key = sa.func.substr(sa.func.lower(sa.func.trim(orders.c.community)) + '|' + sa.func.lower(
        sa.func.trim(orders.c.building)) + '|' + sa.func.lower(sa.func.trim(orders.c.address_detail)), 1, 420)
    addresses = (sa.select(key, sa.func.max(sa.func.lower(sa.func.trim(orders.c.community))),
                           sa.func.max(orders.c.building_id), sa.func.min(orders.c.created_at)).group_by(key))
    op.execute(reached.insert().from_select(['key', 'community', 'building_id', 'reached_at'], addresses))
    asked = sa.exists().where(orders.c.resident_id == users.c.id, orders.c.on_behalf == sa.false())
    people = (sa.select(sa.literal('u') + sa.cast(users.c.id, sa.String()), sa.func.lower(buildings.c.community),
                        users.c.building_id, users.c.created_at)
              .join(buildings, buildings.c.id == users.c.building_id).where(~asked))
    op.execute(reached.insert().from_select(['key', 'community', 'building_id', 'reached_at'], people))


def downgrade() -> None:
    op.drop_table('reached_households')
    op.drop_index('ix_volunteers_measures', 'volunteers')
    op.drop_index('ix_ratings_time', 'ratings')
    op.drop_index('ix_orders_measures', 'orders')
    with op.batch_alter_table('orders') as batch:
        batch.drop_column('done_at')
        batch.drop_column('accepted_at')
    op.drop_table('household_counts')
