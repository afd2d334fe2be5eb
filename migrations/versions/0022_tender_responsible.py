"""tenders.responsible_id: the member in charge of a tender (issue 20)

Revision ID: 0022_tender_responsible
Revises: 0021_member_roles
Create Date: 2026-12-06

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0022_tender_responsible'
down_revision = '0021_member_roles'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('tenders', schema=None) as batch_op:
        batch_op.add_column(sa.Column('responsible_id', sa.Integer(), nullable=True))
    op.execute("UPDATE tenders SET responsible_id = created_by_id")
    with op.batch_alter_table('tenders', schema=None) as batch_op:
        batch_op.alter_column('responsible_id', existing_type=sa.Integer(), nullable=False)
        batch_op.create_foreign_key(
            batch_op.f('fk_tenders_responsible_id_users'), 'users', ['responsible_id'], ['id']
        )
        batch_op.create_index(batch_op.f('ix_tenders_responsible_id'), ['responsible_id'])


def downgrade():
    with op.batch_alter_table('tenders', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_tenders_responsible_id'))
        batch_op.drop_constraint(batch_op.f('fk_tenders_responsible_id_users'), type_='foreignkey')
        batch_op.drop_column('responsible_id')
