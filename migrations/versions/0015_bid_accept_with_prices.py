"""PostgreSQL: bid_accept_and_price(), the accept call that also tells what watchers are told

Revision ID: 0015_bid_accept_with_prices
Revises: 0014_bid_accept_function
Create Date: 2026-12-04

bid_accept_revision() (migration 0014) stores a revision; after the commit the web process
then asked the database for the number of active bids and the best price of each position
the revision changed (the live push of bids/offers.py). This wrapper runs the same function
and, when it stored the revision, reads both in the same transaction, under the tender lock
the function took: the figures are exactly those of the moment the revision was accepted,
and the web process saves a statement per revision.

p may carry "best_of": the position numbers whose best price to return (as "best", a
number -> the lowest unit price, as text, among the active bids' latest revisions; a
position nobody offers is absent). "participants" (the active bids) comes back with every stored revision.
"""

from alembic import op

from bids.plpgsql import function_sql

# revision identifiers, used by Alembic.
revision = "0015_bid_accept_with_prices"
down_revision = "0014_bid_accept_function"
branch_labels = None
depends_on = None


FUNCTION = function_sql("bid_accept_and_price", 1)  # bids/sql/bid_accept_and_price.v1.sql


def upgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute(FUNCTION)


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS bid_accept_and_price(jsonb)")
