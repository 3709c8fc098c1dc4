"""measure summaries: per local month, the counts behind the report's rates, kept by triggers
(storage/summaries.py) and filled here from the raw rows; reached households by community, the
volunteers' communities

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from storage.summaries import DEFAULT_OFFSET_MINUTES, Sql

revision: str = '0016'
down_revision: str | None = '0015'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The months are cut at UTC+8 (Asia/Shanghai, the settings' default zone); a centre elsewhere runs
# `volunteer-loop db rebuild-measures`, and until then its reports read the raw rows.
OFFSET_MINUTES = DEFAULT_OFFSET_MINUTES


def upgrade() -> None:
    op.create_index('ix_reached_community', 'reached_households', ['community', 'reached_at'], unique=False)
    op.create_index('ix_volunteers_community', 'volunteers', ['community', 'status'], unique=False)
    op.create_table(
        'measure_clock',
        sa.Column('id', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('offset_minutes', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_table(
        'measure_counts',
        sa.Column('month', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('kind', sa.String(length=16), nullable=False),
        sa.Column('axis', sa.String(length=1), nullable=False),
        sa.Column('key', sa.String(length=128), nullable=False),
        sa.Column('n', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('month', 'kind', 'axis', 'key'),
    )
    op.create_table(
        'measure_minutes',
        sa.Column('month', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('kind', sa.String(length=1), nullable=False),
        sa.Column('axis', sa.String(length=1), nullable=False),
        sa.Column('key', sa.String(length=128), nullable=False),
        sa.Column('minutes', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('n', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('month', 'kind', 'axis', 'key', 'minutes'),
    )
    op.create_table(
        'measure_served',
        sa.Column('month', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('user_id', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('team_id', sa.Integer(), autoincrement=False, nullable=False),
        sa.PrimaryKeyConstraint('month', 'user_id', 'team_id'),
    )
    op.create_index('ix_measure_served_user', 'measure_served', ['user_id', 'month', 'team_id'], unique=False)
    op.create_table(
        'measure_residents',
        sa.Column('month', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('resident_id', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('community', sa.String(length=128), nullable=False),
        sa.Column('n', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('month', 'resident_id', 'community'),
    )
    sql = Sql(op.get_bind().dialect.name == 'postgresql')
    for statement in sql.create():
        op.get_bind().exec_driver_sql(statement)
    for statement in sql.rebuild(OFFSET_MINUTES):
        op.get_bind().exec_driver_sql(statement)


def downgrade() -> None:
    for statement in Sql(op.get_bind().dialect.name == 'postgresql').drop():
        op.get_bind().exec_driver_sql(statement)
    op.drop_table('measure_residents')
    op.drop_index('ix_measure_served_user', table_name='measure_served')
    op.drop_table('measure_served')
    op.drop_table('measure_minutes')
    op.drop_table('measure_counts')
    op.drop_table('measure_clock')
    op.drop_index('ix_volunteers_community', table_name='volunteers')
    op.drop_index('ix_reached_community', table_name='reached_households')
