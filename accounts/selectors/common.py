"""Small reads shared by the accounts selectors: the customer lifecycle stages and the capped count of a list."""

from __future__ import annotations

from django.db.models import QuerySet

from accounts.models import LifecycleStageName

CUSTOMER_STAGES = (LifecycleStageName.CONVERSION, LifecycleStageName.RETENTION, LifecycleStageName.CHURN)


LIST_COUNT_CAP = 1000


def capped_count(qs: QuerySet, cap: int = LIST_COUNT_CAP) -> tuple[int, bool]:
    """How many rows, counting at most `cap` (a COUNT(*) over a million rows is not worth its cost):
    (count, more) where `more` says the real number is larger."""
    count = qs.order_by().values("pk")[: cap + 1].count()
    return min(count, cap), count > cap
