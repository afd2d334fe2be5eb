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
