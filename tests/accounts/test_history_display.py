"""History shows JSON values (score reasons) as a person reads them, not as a Python dump."""

from accounts.selectors.history import _json_display


def test_score_reasons_read_as_rules_with_points():
    reasons = [{"rule": "Industry: Software", "points": 15}, {"rule": "Company size: 1–10", "points": -10}]
    assert _json_display(reasons) == "Industry: Software +15 · Company size: 1–10 -10"


def test_other_json_reads_as_items_and_empty_is_nothing():
    assert _json_display({"a": 1, "b": "x"}) == "a: 1, b: x"
    assert _json_display(["x", 2]) == "x · 2"
    assert _json_display([]) is None
    assert _json_display({}) is None
