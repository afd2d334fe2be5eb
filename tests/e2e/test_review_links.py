"""The customer finds the review from the cabinet page of a closed tender, and the review
asks to publish only after the disqualifications (issue 19.10)."""

from __future__ import annotations

import datetime as dt

from core import clock, jobs
from tests.e2e.api_helpers import caller, published
from tests.e2e.bidding_helpers import bid, bidder
from tests.e2e.helpers import login


def _closed(app, client) -> tuple[dict, object]:
    customer = caller(app)
    tender = published(app, customer)
    bid(app, bidder(app, client), tender["id"], {"3": "1000"})
    clock.advance(dt.timedelta(days=11))
    with app.app_context():
        assert jobs.run_job("tenders.jobs.close_overdue") >= 1
    return tender, customer


def test_cabinet_links_the_review_and_publication_comes_last(app, client, db):
    tender, customer = _closed(app, client)
    login(client, customer.email)
    cabinet = client.get(f"/cabinet/tenders/{tender['id']}").get_data(as_text=True)
    review_url = f"/cabinet/tenders/{tender['id']}/review"
    assert f'id="review-link" href="{review_url}"' in cabinet
    assert "Review the offers and publish the results" in cabinet

    page = client.get(review_url).get_data(as_text=True)
    disqualifications = page.index('id="disqualifications"')
    assert page.index('id="disqualify-form"') < page.index('id="publish-results"')
    assert disqualifications < page.index('id="publication"') < page.index('id="publish-results"')
