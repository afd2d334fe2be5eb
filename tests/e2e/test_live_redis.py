"""Redis goes away and comes back: the web processes subscribe again within seconds (not
python-socketio's backoff of up to 60 s), and tell their pages to resynchronise, so what
was pushed meanwhile is not lost for good."""

from __future__ import annotations

import time
import uuid

import pytest

from tests.e2e.bidding_helpers import bidder, submit_to_server, tender_in_window
from tests.e2e.conftest import _env, serving
from tests.e2e.test_live_rooms import _socket, _until

pytestmark = [pytest.mark.live, pytest.mark.production_layout]

# Long enough for python-socketio's own backoff (1, 2, 4, 8, 16 s...) to wait 16 s more
# after Redis is back; with core.live's cap the listener is back within 2 s.
REDIS_AWAY_SECONDS = 16
RECONNECT_TIMEOUT = 8


def test_pushes_reach_other_processes_again_soon_after_redis_returns(
    app, database_url, smtp_server, workdir, private_redis
):
    channel = f"tenders-test-{uuid.uuid4().hex[:8]}"
    env = _env(database_url, private_redis.url, smtp_server.port, workdir, "eventlet", channel)
    client = app.test_client()
    tender = tender_in_window(app, client)
    a, b = bidder(app, client), bidder(app, client)
    with serving(env, workdir, "one") as one, serving(env, workdir, "two") as two:
        watcher, heard = _socket(one)  # an anonymous visitor's page, on process one
        try:
            assert watcher.call("watch_tender", {"tender_id": tender["id"]})["extensions"] == 0
            private_redis.stop()
            # A bids through process two while Redis is away: process one hears nothing.
            assert submit_to_server(two, a, tender["id"], {"1": "100.00"}).status_code == 201
            time.sleep(REDIS_AWAY_SECONDS)
            private_redis.start()
            # Process one is subscribed again and asks its pages to resynchronise...
            _until(heard, "resync", timeout=RECONNECT_TIMEOUT)
            state = watcher.call("watch_tender", {"tender_id": tender["id"]}, timeout=10)
            assert state["extensions"] == 1  # ...which finds the extension it missed
            # and B's bid through process two reaches it live again.
            assert submit_to_server(two, b, tender["id"], {"1": "90.00"}).status_code == 201
            _until(heard, "bid_activity", timeout=RECONNECT_TIMEOUT, participants=2)
        finally:
            watcher.disconnect()
