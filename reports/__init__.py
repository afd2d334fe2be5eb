"""Documents the platform produces: the signed results protocol, bid receipts, the OCDS export."""
