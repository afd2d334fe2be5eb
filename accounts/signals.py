"""What accounts tells the packages that react in the same transaction (blinker signals;
receivers are connected when the app is created, see docs/architecture.md). The sender is
the Organization; a receiver writes with the session of the request and raises to abort it."""

from __future__ import annotations

from blinker import Namespace

_signals = Namespace()

# A user became a member of an organization (its founder at registration, with the declared
# categories set; an invitee who accepted): user=User.
member_joined = _signals.signal("member-joined")

# An operator's decision was mailed to one member: user_id=, key= (unique per decision),
# payload= (what the inbox shows), mail_id=.
members_told = _signals.signal("member-told")
