"""team activities, their sign-ups, the hours ledger, and schedule items about an activity

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0010'
down_revision: str | None = '0009'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'activities',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('team_id', sa.Integer(), nullable=False),
        sa.Column('title', sa.String(length=128), nullable=False),
        sa.Column('place', sa.String(length=256), nullable=False),
        sa.Column('starts_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('ends_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('capacity', sa.Integer(), nullable=False),
        sa.Column('taken', sa.Integer(), server_default=sa.text('0'), nullable=False),
        sa.Column('bring', sa.String(length=256), server_default=sa.text("''"), nullable=False),
        sa.Column('signup_deadline', sa.DateTime(timezone=True), nullable=False),
        sa.Column('skill', sa.String(length=32), nullable=True),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('code', sa.String(length=16), nullable=False),
        sa.Column('also_teams', sa.JSON(), nullable=False),
        sa.Column('cards', sa.JSON(), nullable=False),
        sa.Column('created_by', sa.Integer(), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['created_by'], ['users.id']),
        sa.ForeignKeyConstraint(['team_id'], ['teams.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('code'),
    )
    op.create_index('ix_activities_team_time', 'activities', ['team_id', 'starts_at'])
    op.create_index('ix_activities_status_time', 'activities', ['status', 'starts_at'])
    op.create_table(
        'activity_signups',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('activity_id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('attendance', sa.String(length=16), server_default=sa.text("''"), nullable=False),
        sa.Column('checked_in_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('checked_out_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('marked_by', sa.Integer(), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['activity_id'], ['activities.id']),
        sa.ForeignKeyConstraint(['marked_by'], ['users.id']),
        sa.ForeignKeyConstraint(['user_id'], ['users.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('activity_id', 'user_id'),
    )
    op.create_index('ix_activity_signups_list', 'activity_signups', ['activity_id', 'status', 'id'])
    op.create_index('ix_activity_signups_user', 'activity_signups', ['user_id', 'status'])
    op.create_table(
        'hours_entries',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('team_id', sa.Integer(), nullable=True),
        sa.Column('source', sa.String(length=16), nullable=False),
        sa.Column('order_id', sa.Integer(), nullable=True),
        sa.Column('round', sa.Integer(), nullable=True),
        sa.Column('activity_id', sa.Integer(), nullable=True),
        sa.Column('corrects_id', sa.Integer(), nullable=True),
        sa.Column('minutes', sa.Integer(), nullable=False),
        sa.Column('claimed_minutes', sa.Integer(), nullable=True),
        sa.Column('served_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('reason', sa.String(length=256), nullable=True),
        sa.Column('created_by', sa.Integer(), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['activity_id'], ['activities.id']),
        sa.ForeignKeyConstraint(['corrects_id'], ['hours_entries.id']),
        sa.ForeignKeyConstraint(['created_by'], ['users.id']),
        sa.ForeignKeyConstraint(['order_id'], ['orders.id']),
        sa.ForeignKeyConstraint(['team_id'], ['teams.id']),
        sa.ForeignKeyConstraint(['user_id'], ['users.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_hours_user_time', 'hours_entries', ['user_id', 'served_at', 'source', 'minutes'])
    op.create_index('ix_hours_time', 'hours_entries', ['served_at'])
    op.create_index('ix_hours_team_time', 'hours_entries', ['team_id', 'served_at'])
    op.create_index('ix_hours_order', 'hours_entries', ['order_id'])
    op.create_index('ix_hours_activity', 'hours_entries', ['activity_id'])
    # schedule items about an activity (its reminders, its automatic check-out)
    if op.get_bind().dialect.name == 'sqlite':  # SQLite takes REFERENCES in ADD COLUMN; alembic won't emit it
        op.execute(sa.text('ALTER TABLE schedule ADD COLUMN activity_id INTEGER REFERENCES activities (id)'))
    else:
        op.add_column('schedule', sa.Column('activity_id', sa.Integer(), nullable=True))
        op.create_foreign_key('fk_schedule_activity_id', 'schedule', 'activities', ['activity_id'], ['id'])
    op.create_index('ix_schedule_activity', 'schedule', ['activity_id', 'state'])


def downgrade() -> None:
    op.drop_index('ix_schedule_activity', table_name='schedule')
    if op.get_bind().dialect.name != 'sqlite':
        op.drop_constraint('fk_schedule_activity_id', 'schedule', type_='foreignkey')
    op.drop_column('schedule', 'activity_id')
    op.drop_table('hours_entries')
    op.drop_table('activity_signups')
    op.drop_table('activities')
