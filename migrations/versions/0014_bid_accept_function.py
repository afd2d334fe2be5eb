"""PostgreSQL: bid_accept_revision(), a first bid or a revision of an active bid stored in one call

Revision ID: 0014_bid_accept_function
Revises: 0013_results_corrections
Create Date: 2026-12-03

The function decides nothing: bids/accept_pg.py decides with the pure rule (bids/rules.py)
from the deadline it read before, and the function stores that decision only if the tender,
the bid (for a first bid: the number of bids so far) and the audit chain are still as read;
else it answers "deadline_moved" (with the deadline now in force: the caller decides again),
"bids_moved" (with the number of bids: the caller numbers its first bid again), "conflict"
or "bid_changed" (the caller takes the locked path of bids/service.py). The tender row is locked from the
first statement to the commit, as on the locked path; the point is that PostgreSQL holds it
for one call instead of a dozen round trips to the web process.

The audit events' hashes are computed here exactly as audit.rules.event_hash() does: the
caller sends the stable JSON of each event up to its "prev" value (keys are sorted, and
"prev" and "seq" are the last two), the function appends the chain's last hash and the seq.
"""

from alembic import op

from bids.plpgsql import function_sql

# revision identifiers, used by Alembic.
revision = "0014_bid_accept_function"
down_revision = "0013_results_corrections"
branch_labels = None
depends_on = None


FUNCTION = function_sql("bid_accept_revision", 1)  # bids/sql/bid_accept_revision.v1.sql


def upgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute(FUNCTION)


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS bid_accept_revision(jsonb)")
