"""The words of coded refusals: deadlines named in the tender's zone, to the second."""

import datetime as dt

import pytest

from core.errors import CODES, Refused
from core.messages import local_moment, refusal_text, utc_offset

AT = dt.datetime(2026, 12, 6, 11, 30, 5, 81583, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    ("zone", "text"),
    [
        ("Europe/Moscow", "06.12.2026 14:30:05 (MSK, UTC+3)"),
        ("Asia/Yekaterinburg", "06.12.2026 16:30:05 (UTC+5)"),  # no abbreviation: said once
        ("Asia/Kolkata", "06.12.2026 17:00:05 (IST, UTC+5:30)"),
        ("America/St_Johns", "06.12.2026 08:00:05 (NST, UTC-3:30)"),
        ("Europe/London", "06.12.2026 11:30:05 (GMT, UTC+0)"),
        ("UTC", "06.12.2026 11:30:05 (UTC)"),
    ],
)
def test_local_moment_names_the_zone_and_its_offset(zone, text):
    assert local_moment(AT, zone) == text


def test_offsets():
    assert utc_offset(dt.timedelta(0)) == "UTC+0"
    assert utc_offset(dt.timedelta(hours=-10)) == "UTC-10"
    assert utc_offset(dt.timedelta(hours=5, minutes=45)) == "UTC+5:45"


def test_bidding_closed_names_the_deadline_in_the_zone():
    text = refusal_text("bidding_closed", {"deadline": AT, "zone": "Europe/Moscow"})
    assert text == "Bidding closed at 06.12.2026 14:30:05 (MSK, UTC+3)."


def test_a_refusal_keeps_its_own_code_and_status():
    error = Refused("tender_not_open", status="cancelled", number="T-1")
    assert (error.status, error.code) == (409, "tender_not_open")
    assert error.message == "Tender T-1 is cancelled: it accepts no bids."
    for code in ("bidding_closed", "tender_not_open", "bid_changed", "no_active_bid"):
        assert CODES[code][0] == 409
