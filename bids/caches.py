"""The bidding core's process-wide caches, in one place with one reset (tests roll back
tenders, so an id and an updated_at can come back: tests call reset() between tests)."""

from __future__ import annotations

from core.lru import Bounded

# The specs of recently bid-on tenders (bids.service.specs_of). A published tender's positions
# and criteria change only by an amendment, which moves `updated_at`, so (id, updated_at)
# names one version.
SPECS = Bounded(32)

# The latest offers of recently revised bids, by (bid, hash of the revision's signed payload,
# tender version): the payload commits to every line and criterion value, so an entry can
# never be stale. A revision accepted by this process is remembered, and the bid's next
# revision (its supplier's connection usually comes back to the same process) compares with
# it without reading it back. Small offers only (OFFERS_LINES): a large one is read when needed.
OFFERS = Bounded(4096)
OFFERS_LINES = 100

# Tenders whose lock this process recently waited for too long (bids.accept_pg): tender id ->
# time.monotonic() until which their lock is waited for cooperatively.
BUSY_UNTIL = Bounded(256)


def reset() -> None:
    """Empty every cache of the bidding core."""
    SPECS.clear()
    OFFERS.clear()
    BUSY_UNTIL.clear()
