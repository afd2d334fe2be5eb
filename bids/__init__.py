"""Bids and their immutable revisions. Built by the bidding issue."""
