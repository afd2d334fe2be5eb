CREATE OR REPLACE FUNCTION bid_accept_revision(p jsonb) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
    v_tender integer := (p->>'tender_id')::integer;
    v_at timestamptz := (p->>'accepted_at')::timestamptz;
    r jsonb := p->'revision';
    t record;
    b record;
    h record;
    e jsonb;
    v_revision integer;
    v_seq integer;
    v_prev text;
    v_hash text;
    v_event integer;
    v_bids integer;
BEGIN
    SELECT status, bid_deadline, extensions_count INTO t
      FROM tenders WHERE id = v_tender FOR UPDATE;
    IF NOT FOUND OR t.status <> 'published' OR v_at >= t.bid_deadline THEN
        RETURN jsonb_build_object('status', 'conflict');
    END IF;
    IF t.bid_deadline <> (p->>'expected_deadline')::timestamptz
       OR t.extensions_count <> (p->>'expected_extensions')::integer THEN
        RETURN jsonb_build_object('status', 'deadline_moved', 'deadline', t.bid_deadline,
                                  'extensions', t.extensions_count);
    END IF;
    SELECT last_seq, last_hash INTO h FROM audit_chains WHERE name = p->>'chain' FOR UPDATE;
    IF NOT FOUND THEN
        RETURN jsonb_build_object('status', 'conflict');
    END IF;
    -- The chain's order is the order of its moments: a moment taken before the lock that an
    -- event of the chain has passed meanwhile is taken again, under the lock, by the caller.
    IF EXISTS (SELECT 1 FROM audit_events
                WHERE chain = p->>'chain' AND seq = h.last_seq AND occurred_at > v_at) THEN
        RETURN jsonb_build_object('status', 'moment_passed');
    END IF;
    -- Bids change only under their tender's lock: these reads are current.
    IF p ? 'new_bid' THEN
        SELECT count(*) INTO v_bids FROM bids WHERE tender_id = v_tender;
        IF v_bids <> (p->'new_bid'->>'participant_number')::integer - 1 THEN
            RETURN jsonb_build_object('status', 'bids_moved', 'bids', v_bids);
        END IF;
        INSERT INTO bids (id, tender_id, organization_id, participant_number, status,
            revision_count, last_hash, first_bid_at)
        VALUES ((p->>'bid_id')::integer, v_tender,
            (p->'new_bid'->>'organization_id')::integer,
            (p->'new_bid'->>'participant_number')::integer, 'active', 0, NULL, v_at)
        ON CONFLICT (tender_id, organization_id) DO NOTHING;
        IF NOT FOUND THEN
            RETURN jsonb_build_object('status', 'bid_changed');
        END IF;
    ELSE
        SELECT revision_count, last_hash, status INTO b
          FROM bids WHERE id = (p->>'bid_id')::integer;
        IF NOT FOUND OR b.status <> 'active'
           OR b.revision_count <> (r->>'number')::integer - 1
           OR b.last_hash IS DISTINCT FROM (r->>'previous_hash') THEN
            RETURN jsonb_build_object('status', 'bid_changed');
        END IF;
    END IF;

    INSERT INTO bid_revisions (id, bid_id, number, accepted_at, submitted_by_id, signing_key_id,
        signature, payload_hash, previous_hash, receipt_signature, triggering, deadline_before,
        deadline_after, total)
    VALUES (COALESCE((r->>'id')::integer, nextval(pg_get_serial_sequence('bid_revisions', 'id'))),
        (p->>'bid_id')::integer, (r->>'number')::integer, v_at,
        (r->>'submitted_by_id')::integer, (r->>'signing_key_id')::integer, r->>'signature',
        r->>'payload_hash', r->>'previous_hash', r->>'receipt_signature',
        (r->>'triggering')::boolean, (r->>'deadline_before')::timestamptz,
        (r->>'deadline_after')::timestamptz, (r->>'total')::numeric)
    RETURNING id INTO v_revision;

    INSERT INTO bid_lines (revision_id, position_id, position_number, unit_price, total, note)
    SELECT v_revision, (l->>0)::integer, l->>1, (l->>2)::numeric, (l->>3)::numeric, l->>4
      FROM jsonb_array_elements(p->'lines') AS l;
    INSERT INTO bid_criterion_values (revision_id, lot_number, criterion_id, value)
    SELECT v_revision, (c->>0)::integer, (c->>1)::integer, c->>2
      FROM jsonb_array_elements(p->'criteria') AS c;
    INSERT INTO bid_revision_documents (revision_id, document_id, name, sha256)
    SELECT v_revision, (d->>0)::integer, d->>1, d->>2
      FROM jsonb_array_elements(p->'documents') AS d;
    UPDATE bids SET revision_count = (r->>'number')::integer, last_hash = r->>'payload_hash',
           status = 'active', withdrawn_at = NULL
     WHERE id = (p->>'bid_id')::integer;

    v_seq := h.last_seq;
    v_hash := h.last_hash;
    FOR e IN SELECT value FROM jsonb_array_elements(p->'events') LOOP
        v_seq := v_seq + 1;
        v_prev := v_hash;
        v_hash := encode(sha256(convert_to(
            (e->>'hash_prefix') || v_prev || '","seq":' || v_seq::text || '}', 'UTF8')), 'hex');
        INSERT INTO audit_events (chain, seq, occurred_at, actor_user_id, actor_org_id, action,
            object_type, object_id, payload, payload_hash, prev_hash, hash)
        VALUES (p->>'chain', v_seq, v_at, (e->>'actor_user_id')::integer,
            (e->>'actor_org_id')::integer, e->>'action', e->>'object_type', e->>'object_id',
            (e->'payload')::json, e->>'payload_hash', v_prev, v_hash);
    END LOOP;
    UPDATE audit_chains SET last_seq = v_seq, last_hash = v_hash WHERE name = p->>'chain';

    IF p ? 'extension' THEN
        UPDATE tenders SET bid_deadline = (p->'extension'->>'deadline')::timestamptz,
               extensions_count = extensions_count + 1
         WHERE id = v_tender;
        INSERT INTO domain_events (kind, tender_id, payload, created_at)
        VALUES ('tender.extended', v_tender, (p->'extension'->'event')::json, v_at)
        RETURNING id INTO v_event;
    END IF;
    RETURN jsonb_build_object('status', 'ok', 'revision_id', v_revision, 'event_id', v_event,
                              'seq', v_seq);
END
$$;
