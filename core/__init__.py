"""Shared infrastructure every domain may import; it imports no domain."""
