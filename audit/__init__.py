"""Hash-chained audit trail: one chain for the platform, one per tender."""
