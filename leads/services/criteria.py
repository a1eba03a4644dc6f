"""How a text criterion of a territory or a scoring rule compares with a lead's value."""

from __future__ import annotations


def criterion_norm(value: str | None) -> str:
    """Case- and padding-insensitive form of a text criterion (mirrors `lower(btrim(...))` in the scoring SQL)."""
    return (value or "").strip(" ").lower()
