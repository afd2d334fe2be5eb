"""Supplier keys, canonical payloads, signature verification, platform receipts."""
