"""The re-bidding round (переторжка): after the close and before the results are published,
the customer invites admissible participants of some lots to improve their offers by a
deadline of the round's own (docs/rebidding.md)."""
