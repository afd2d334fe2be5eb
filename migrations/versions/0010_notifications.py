"""subscriptions, followed tenders and the cabinet inbox; declared categories, mail consent

Revision ID: 0010_notifications
Revises: 0009_results
Create Date: 2026-11-23

"""
from alembic import op
import sqlalchemy as sa

import core.types


# revision identifiers, used by Alembic.
revision = '0010_notifications'
down_revision = '0009_results'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('subscriptions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('default_for_org_id', sa.Integer(), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('by_email', sa.Boolean(), nullable=False),
    sa.Column('in_cabinet', sa.Boolean(), nullable=False),
    sa.Column('frequency', sa.String(length=8), nullable=False),
    sa.Column('has_categories', sa.Boolean(), nullable=False),
    sa.Column('has_regions', sa.Boolean(), nullable=False),
    sa.Column('has_keywords', sa.Boolean(), nullable=False),
    sa.Column('has_customers', sa.Boolean(), nullable=False),
    sa.Column('price_min', core.types.ExactDecimal(precision=18, scale=2), nullable=True),
    sa.Column('price_max', core.types.ExactDecimal(precision=18, scale=2), nullable=True),
    sa.Column('created_at', core.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', core.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['default_for_org_id'], ['organizations.id'], name=op.f('fk_subscriptions_default_for_org_id_organizations')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_subscriptions_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_subscriptions'))
    )
    with op.batch_alter_table('subscriptions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_subscriptions_user_id'), ['user_id'], unique=False)

    op.create_table('notifications',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=48), nullable=False),
    sa.Column('tender_id', sa.Integer(), nullable=True),
    sa.Column('dedupe_key', sa.String(length=120), nullable=False),
    sa.Column('payload', sa.JSON(), nullable=False),
    sa.Column('in_inbox', sa.Boolean(), nullable=False),
    sa.Column('email_mode', sa.String(length=8), nullable=False),
    sa.Column('subscription_id', sa.Integer(), nullable=True),
    sa.Column('mail_id', sa.Integer(), nullable=True),
    sa.Column('created_at', core.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('read_at', core.types.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['mail_id'], ['outgoing_emails.id'], name=op.f('fk_notifications_mail_id_outgoing_emails')),
    sa.ForeignKeyConstraint(['subscription_id'], ['subscriptions.id'], name=op.f('fk_notifications_subscription_id_subscriptions'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['tender_id'], ['tenders.id'], name=op.f('fk_notifications_tender_id_tenders'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_notifications_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notifications')),
    sa.UniqueConstraint('user_id', 'dedupe_key', name=op.f('uq_notifications_user_id'))
    )
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.create_index('ix_notifications_digest', ['email_mode', 'mail_id'], unique=False)
        batch_op.create_index('ix_notifications_inbox', ['user_id', 'in_inbox', 'read_at', 'id'], unique=False)
        batch_op.create_index(batch_op.f('ix_notifications_tender_id'), ['tender_id'], unique=False)

    op.create_table('subscription_categories',
    sa.Column('subscription_id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=20), nullable=False),
    sa.ForeignKeyConstraint(['subscription_id'], ['subscriptions.id'], name=op.f('fk_subscription_categories_subscription_id_subscriptions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('subscription_id', 'code', name=op.f('pk_subscription_categories'))
    )
    with op.batch_alter_table('subscription_categories', schema=None) as batch_op:
        batch_op.create_index('ix_subscription_categories_code', ['code', 'subscription_id'], unique=False)

    op.create_table('subscription_customers',
    sa.Column('subscription_id', sa.Integer(), nullable=False),
    sa.Column('organization_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['organization_id'], ['organizations.id'], name=op.f('fk_subscription_customers_organization_id_organizations')),
    sa.ForeignKeyConstraint(['subscription_id'], ['subscriptions.id'], name=op.f('fk_subscription_customers_subscription_id_subscriptions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('subscription_id', 'organization_id', name=op.f('pk_subscription_customers'))
    )
    with op.batch_alter_table('subscription_customers', schema=None) as batch_op:
        batch_op.create_index('ix_subscription_customers_org', ['organization_id', 'subscription_id'], unique=False)

    op.create_table('subscription_keywords',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('subscription_id', sa.Integer(), nullable=False),
    sa.Column('text', sa.String(length=200), nullable=False),
    sa.Column('term_count', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['subscription_id'], ['subscriptions.id'], name=op.f('fk_subscription_keywords_subscription_id_subscriptions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_subscription_keywords'))
    )
    with op.batch_alter_table('subscription_keywords', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_subscription_keywords_subscription_id'), ['subscription_id'], unique=False)

    op.create_table('subscription_regions',
    sa.Column('subscription_id', sa.Integer(), nullable=False),
    sa.Column('region_code', sa.String(length=2), nullable=False),
    sa.ForeignKeyConstraint(['subscription_id'], ['subscriptions.id'], name=op.f('fk_subscription_regions_subscription_id_subscriptions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('subscription_id', 'region_code', name=op.f('pk_subscription_regions'))
    )
    with op.batch_alter_table('subscription_regions', schema=None) as batch_op:
        batch_op.create_index('ix_subscription_regions_code', ['region_code', 'subscription_id'], unique=False)

    op.create_table('tender_follows',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('tender_id', sa.Integer(), nullable=False),
    sa.Column('created_at', core.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['tender_id'], ['tenders.id'], name=op.f('fk_tender_follows_tender_id_tenders'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_tender_follows_user_id_users')),
    sa.PrimaryKeyConstraint('user_id', 'tender_id', name=op.f('pk_tender_follows'))
    )
    with op.batch_alter_table('tender_follows', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_tender_follows_tender_id'), ['tender_id'], unique=False)

    op.create_table('subscription_keyword_terms',
    sa.Column('keyword_id', sa.Integer(), nullable=False),
    sa.Column('term', sa.String(length=100), nullable=False),
    sa.ForeignKeyConstraint(['keyword_id'], ['subscription_keywords.id'], name=op.f('fk_subscription_keyword_terms_keyword_id_subscription_keywords'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('keyword_id', 'term', name=op.f('pk_subscription_keyword_terms'))
    )
    with op.batch_alter_table('subscription_keyword_terms', schema=None) as batch_op:
        batch_op.create_index('ix_subscription_keyword_terms_term', ['term', 'keyword_id'], unique=False)

    with op.batch_alter_table('organizations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('declared_categories', core.types.CodeList(), nullable=False,
                                      server_default="{}" if _pg() else ""))
    with op.batch_alter_table('organizations', schema=None) as batch_op:
        batch_op.alter_column('declared_categories', server_default=None)

    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('marketing_consent_at', core.types.UTCDateTime(timezone=True), nullable=True))



def _pg() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def downgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('marketing_consent_at')

    with op.batch_alter_table('organizations', schema=None) as batch_op:
        batch_op.drop_column('declared_categories')

    with op.batch_alter_table('subscription_keyword_terms', schema=None) as batch_op:
        batch_op.drop_index('ix_subscription_keyword_terms_term')

    op.drop_table('subscription_keyword_terms')
    with op.batch_alter_table('tender_follows', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_tender_follows_tender_id'))

    op.drop_table('tender_follows')
    with op.batch_alter_table('subscription_regions', schema=None) as batch_op:
        batch_op.drop_index('ix_subscription_regions_code')

    op.drop_table('subscription_regions')
    with op.batch_alter_table('subscription_keywords', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_subscription_keywords_subscription_id'))

    op.drop_table('subscription_keywords')
    with op.batch_alter_table('subscription_customers', schema=None) as batch_op:
        batch_op.drop_index('ix_subscription_customers_org')

    op.drop_table('subscription_customers')
    with op.batch_alter_table('subscription_categories', schema=None) as batch_op:
        batch_op.drop_index('ix_subscription_categories_code')

    op.drop_table('subscription_categories')
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_notifications_tender_id'))
        batch_op.drop_index('ix_notifications_inbox')
        batch_op.drop_index('ix_notifications_digest')

    op.drop_table('notifications')
    with op.batch_alter_table('subscriptions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_subscriptions_user_id'))

    op.drop_table('subscriptions')
