"""Receivers that keep Segment.customer_count true (filled in by the segments issue)."""


def connect() -> None:
    """Connect the receivers; called once from SegmentsConfig.ready()."""
