"""Tenders (requests for proposals): notices, lots, lifecycle. Built by the tenders issue."""
