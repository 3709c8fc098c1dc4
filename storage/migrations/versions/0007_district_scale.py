"""district scale: indexes for the reports, digests, lists and request limits; skills as rows
(``volunteer_skills``, kept in step with ``volunteers.skills`` by triggers and backfilled here);
indexes for pruning processed update ids and finished outbox rows

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0007'
down_revision: str | None = '0006'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The skills rows follow the JSON list (and the community, in lower case) of their volunteer on every
# insert and on every update of either column, whoever writes it. Skills that are not strings are ignored;
# a volunteer's list naming a skill twice gives one row.
SQLITE_TRIGGERS = (
    """CREATE TRIGGER volunteer_skills_insert AFTER INSERT ON volunteers BEGIN
        INSERT INTO volunteer_skills (volunteer_id, skill, community)
        SELECT DISTINCT NEW.id, substr(value, 1, 32), lower(NEW.community)
        FROM json_each(CASE WHEN json_valid(NEW.skills) AND json_type(NEW.skills) = 'array'
                            THEN NEW.skills ELSE '[]' END)
        WHERE type = 'text';
    END""",
    """CREATE TRIGGER volunteer_skills_update AFTER UPDATE OF skills, community ON volunteers BEGIN
        DELETE FROM volunteer_skills WHERE volunteer_id = OLD.id;
        INSERT INTO volunteer_skills (volunteer_id, skill, community)
        SELECT DISTINCT NEW.id, substr(value, 1, 32), lower(NEW.community)
        FROM json_each(CASE WHEN json_valid(NEW.skills) AND json_type(NEW.skills) = 'array'
                            THEN NEW.skills ELSE '[]' END)
        WHERE type = 'text';
    END""",
)
SQLITE_DROP = ("DROP TRIGGER volunteer_skills_update", "DROP TRIGGER volunteer_skills_insert")

POSTGRESQL_TRIGGERS = (
    """CREATE FUNCTION volunteer_skills_sync() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'UPDATE' THEN
            DELETE FROM volunteer_skills WHERE volunteer_id = OLD.id;
        END IF;
        IF json_typeof(NEW.skills) = 'array' THEN
            INSERT INTO volunteer_skills (volunteer_id, skill, community)
            SELECT DISTINCT NEW.id, left(element #>> '{}', 32), lower(NEW.community)
            FROM json_array_elements(NEW.skills) AS element WHERE json_typeof(element) = 'string';
        END IF;
        RETURN NULL;
    END $$""",
    """CREATE TRIGGER volunteer_skills_sync AFTER INSERT OR UPDATE OF skills, community ON volunteers
    FOR EACH ROW EXECUTE FUNCTION volunteer_skills_sync()""",
)
POSTGRESQL_DROP = ("DROP TRIGGER volunteer_skills_sync ON volunteers", "DROP FUNCTION volunteer_skills_sync()")

# Touching each volunteer's skills fires the update trigger: the backfill is the trigger's own code.
BACKFILL = "UPDATE volunteers SET skills = skills"


def upgrade() -> None:
    op.create_table(
        'volunteer_skills',
        sa.Column('volunteer_id', sa.Integer(), nullable=False),
        sa.Column('skill', sa.String(length=32), nullable=False),
        sa.Column('community', sa.String(length=128), nullable=False),
        sa.ForeignKeyConstraint(['volunteer_id'], ['volunteers.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('volunteer_id', 'skill'),
    )
    op.create_index('ix_volunteer_skills_find', 'volunteer_skills', ['skill', 'community', 'volunteer_id'],
                    unique=False)
    postgresql = op.get_bind().dialect.name == 'postgresql'
    for statement in POSTGRESQL_TRIGGERS if postgresql else SQLITE_TRIGGERS:
        op.execute(statement)
    op.execute(BACKFILL)

    op.drop_index('ix_orders_status', table_name='orders')
    op.create_index('ix_orders_status_time', 'orders', ['status', 'updated_at', 'team_id', 'no_response'],
                    unique=False)
    op.create_index('ix_orders_appointment', 'orders', ['status', 'appointment_at'], unique=False)
    op.create_index('ix_orders_team', 'orders', ['team_id', 'status'], unique=False)
    op.create_index('ix_orders_resident', 'orders', ['resident_id', 'on_behalf', 'created_at'], unique=False)
    op.create_index('ix_orders_volunteer', 'orders', ['volunteer_id', 'status'], unique=False)
    op.create_index('ix_volunteers_team', 'volunteers', ['team_id', 'status', 'is_leader', 'community', 'id'],
                    unique=False)
    op.create_index('ix_volunteers_kind', 'volunteers', ['kind', 'status'], unique=False)
    op.create_index('ix_users_coordinator', 'users', ['is_coordinator'], unique=False)
    op.create_index('ix_processed_updates_seen_at', 'processed_updates', ['seen_at'], unique=False)
    op.create_index('ix_outbox_finished', 'outbox', ['status', 'created_at'], unique=False)
    # Deleting an outbox row checks the edits that point at it (a foreign key): without this index
    # each check scans the outbox (bench/prune.py: a 1000-row batch held SQLite's lock 33 s, not 59 ms).
    op.create_index('ix_outbox_target', 'outbox', ['target_id'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_outbox_target', table_name='outbox')
    op.drop_index('ix_outbox_finished', table_name='outbox')
    op.drop_index('ix_processed_updates_seen_at', table_name='processed_updates')
    op.drop_index('ix_users_coordinator', table_name='users')
    op.drop_index('ix_volunteers_kind', table_name='volunteers')
    op.drop_index('ix_volunteers_team', table_name='volunteers')
    op.drop_index('ix_orders_volunteer', table_name='orders')
    op.drop_index('ix_orders_resident', table_name='orders')
    op.drop_index('ix_orders_team', table_name='orders')
    op.drop_index('ix_orders_appointment', table_name='orders')
    op.drop_index('ix_orders_status_time', table_name='orders')
    op.create_index('ix_orders_status', 'orders', ['status'], unique=False)

    postgresql = op.get_bind().dialect.name == 'postgresql'
    for statement in POSTGRESQL_DROP if postgresql else SQLITE_DROP:
        op.execute(statement)
    op.drop_index('ix_volunteer_skills_find', table_name='volunteer_skills')
    op.drop_table('volunteer_skills')
