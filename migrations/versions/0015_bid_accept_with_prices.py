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

# revision identifiers, used by Alembic.
revision = "0015_bid_accept_with_prices"
down_revision = "0014_bid_accept_function"
branch_labels = None
depends_on = None


FUNCTION = r"""
CREATE OR REPLACE FUNCTION bid_accept_and_price(p jsonb) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
    v_tender integer := (p->>'tender_id')::integer;
    v_result jsonb := bid_accept_revision(p);
    v_best jsonb;
    v_active integer;
BEGIN
    IF v_result->>'status' <> 'ok' THEN
        RETURN v_result;
    END IF;
    SELECT count(*) INTO v_active FROM bids WHERE tender_id = v_tender AND status = 'active';
    IF p ? 'best_of' THEN
        SELECT COALESCE(jsonb_object_agg(number, best), '{}'::jsonb) INTO v_best
          FROM (SELECT l.position_number AS number, min(l.unit_price)::text AS best
                  FROM bids b
                  JOIN bid_revisions r ON r.bid_id = b.id AND r.number = b.revision_count
                  JOIN bid_lines l ON l.revision_id = r.id
                 WHERE b.tender_id = v_tender AND b.status = 'active'
                   AND l.position_number IN
                       (SELECT jsonb_array_elements_text(p->'best_of'))
                 GROUP BY l.position_number) AS prices;
        v_result := v_result || jsonb_build_object('best', v_best);
    END IF;
    RETURN v_result || jsonb_build_object('participants', v_active);
END
$$;
"""


def upgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute(FUNCTION)


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS bid_accept_and_price(jsonb)")
