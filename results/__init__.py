"""Results: evaluation at the close, review, disqualification, publication, correction."""
