"""The supplier's workspaces: "My bids" and followed tenders (issue 22)."""
