"""memberships.roles and invitations.roles: several roles per member (issue 20)

Every existing member becomes an administrator and a manager, so nobody loses what they
could do before; a pending invitation as "admin" becomes the same, as "member" a specialist.

Revision ID: 0021_member_roles
Revises: 0020_tender_language
Create Date: 2026-12-06

"""
from alembic import op
import sqlalchemy as sa

import core.types


# revision identifiers, used by Alembic.
revision = '0021_member_roles'
down_revision = '0020_tender_language'
branch_labels = None
depends_on = None


def _pg() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def _literal(roles: list[str]) -> str:
    return "{" + ",".join(roles) + "}" if _pg() else " " + " ".join(roles) + " "


def upgrade():
    for table in ("memberships", "invitations"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column('roles', core.types.CodeList(), nullable=False,
                                          server_default="{}" if _pg() else ""))
    founders = _literal(["administrator", "manager"])
    op.execute(sa.text("UPDATE memberships SET roles = :r").bindparams(r=founders))
    op.execute(sa.text("UPDATE invitations SET roles = :r WHERE role = 'admin'")
               .bindparams(r=founders))
    op.execute(sa.text("UPDATE invitations SET roles = :r WHERE role <> 'admin'")
               .bindparams(r=_literal(["specialist"])))
    for table in ("memberships", "invitations"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.alter_column('roles', server_default=None)
            batch_op.drop_column('role')


def downgrade():
    for table in ("memberships", "invitations"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column('role', sa.String(length=16), nullable=False,
                                          server_default='member'))
    admin = "'administrator' = ANY(roles)" if _pg() else "roles LIKE '% administrator %'"
    for table in ("memberships", "invitations"):
        op.execute(f"UPDATE {table} SET role = 'admin' WHERE {admin}")
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column('roles')
