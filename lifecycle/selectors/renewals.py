"""Reads of the renewals page and API: the subscriptions whose term ends soon or just ended, with what CS needs
on one row (MRR at stake, health, last touch, the renewal deal's stage and owner), in one query per page.

Windows (by the end date, in the tenant's local days; `today` excluded from overdue):
- overdue: ended in the last grace_days days (after that the account churns: KPIS.md);
- 30: ends today .. in 30 days; 60: in 31 .. 60 days; 90: in 61 .. 90 days.
Only terms with no successor count (see lifecycle.selectors.subscriptions: linked or implied renewals; stored as
Subscription.renewed, which the database keeps); a term whose renewal deal is won but whose next term is not yet
accepted shows in "won, next term to accept".
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.db.models import Count, IntegerField, Max, OuterRef, Q, QuerySet, Subquery, Value
from django.utils.translation import gettext_lazy as _

from accounts.models import Activity
from crm.dates import tenant_today
from crm.models import Membership, Tenant
from lifecycle.models import HealthScore, Subscription
from lifecycle.selectors.subscriptions import subscription_queryset
from lifecycle.services.settings import lifecycle_settings_get

WINDOWS = ("overdue", "30", "60", "90", "won")
WINDOW_LABELS = {
    "overdue": _("Overdue"),
    "30": _("Due in 30 days"),
    "60": _("Due in 31–60 days"),
    "90": _("Due in 61–90 days"),
    "won": _("Won, next term to accept"),
}
DEFAULT_WINDOW = "30"


@dataclass(frozen=True)
class WindowBounds:
    today: datetime.date
    grace_days: int
    at_risk_threshold: int = 40  # the tenant's health threshold, for the page's badges

    def dated_q(self, window: str) -> Q:
        """The end dates of a dated window (overdue, 30, 60, 90), whatever the renewal deal."""
        day = datetime.timedelta(days=1)
        today = self.today
        if window == "overdue":
            return Q(end_date__lt=today, end_date__gte=today - self.grace_days * day)
        top = int(window)
        bottom = {30: 0, 60: 31, 90: 61}[top]
        return Q(end_date__gte=today + bottom * day, end_date__lte=today + top * day)

    def q(self, window: str) -> Q:
        """A window's terms: "won" those whose renewal deal is won (Subscription.renewal_won, kept by the
        database), the dated ones the others."""
        if window == "won":
            return Q(renewal_won=True)
        return self.dated_q(window) & Q(renewal_won=False)


def renewal_base(
    *, tenant: Tenant, membership: Membership, today: datetime.date | None = None
) -> tuple[QuerySet[Subscription], WindowBounds]:
    """Visible, ending terms without a successor (every window's rows), and the bounds of the windows."""
    settings = lifecycle_settings_get(tenant=tenant)
    bounds = WindowBounds(
        today=today or tenant_today(tenant),
        grace_days=settings.grace_days,
        at_risk_threshold=settings.health_at_risk_threshold,
    )
    qs = subscription_queryset(tenant=tenant, membership=membership).filter(
        end_date__isnull=False, renewed=False
    )
    return qs, bounds


def renewal_counts(qs: QuerySet[Subscription], bounds: WindowBounds) -> dict[str, int]:
    """Rows per window in one query over the terms some window can hold: ending from the grace period back to 90
    days ahead (the due-terms index, lifecycle_sub_due_idx) or with a won renewal deal (lifecycle_sub_won_idx),
    never every term the tenant ever had nor every deal."""
    day = datetime.timedelta(days=1)
    in_range = Q(end_date__gte=bounds.today - bounds.grace_days * day, end_date__lte=bounds.today + 90 * day)
    counts = qs.filter(in_range | Q(renewal_won=True)).aggregate(
        **{key: Count("pk", filter=bounds.q(key)) for key in WINDOWS}
    )
    return {key: counts[key] for key in WINDOWS}


def renewal_rows(qs: QuerySet[Subscription], bounds: WindowBounds, window: str) -> QuerySet[Subscription]:
    """The rows of one window: account and its owner, the renewal deal with stage and owner; `health` (the
    account's score or None) and `last_touch` (the latest done activity on the account) annotated."""
    last_touch = (
        Activity.objects.filter(account_id=OuterRef("account_id"), done=True, deleted_at__isnull=True)
        .order_by()
        .values("account_id")
        .annotate(last=Max("occurred_at"))
        .values("last")
    )
    health = HealthScore.objects.filter(account_id=OuterRef("account_id")).values("score")[:1]
    return (
        qs.filter(bounds.q(window))
        .select_related(
            "account",
            "account__owner",
            "renewal_opportunity",
            "renewal_opportunity__stage",
            "renewal_opportunity__owner",
        )
        .annotate(
            health=Subquery(health, output_field=IntegerField()),
            last_touch=Subquery(last_touch),
            window=Value(window),
        )
    )


def renewal_list(
    *,
    tenant: Tenant,
    membership: Membership,
    window: str = DEFAULT_WINDOW,
    today: datetime.date | None = None,
) -> QuerySet[Subscription]:
    """One window's rows, for the API and the export (pages also need the counts: renewal_base + the two
    above)."""
    qs, bounds = renewal_base(tenant=tenant, membership=membership, today=today)
    return renewal_rows(qs, bounds, window if window in WINDOWS else DEFAULT_WINDOW)
