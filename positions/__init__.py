"""Positions (items) of lots, and evaluation rules. Built by the tenders and results issues."""
