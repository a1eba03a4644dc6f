"""Reads of the lifecycle app used by pages, API and other services."""

from __future__ import annotations

import datetime
from collections.abc import Iterable

from django.db.models import DateField, F, Min, OuterRef, QuerySet, Subquery
from django.db.models.functions import Least, TruncDate

from accounts.models import Opportunity, StageKind
from crm.models import Tenant
from lifecycle.models import LifecycleChange, Subscription


def _first_won_date(tenant: Tenant) -> Subquery:
    won = (
        Opportunity.objects.filter(
            tenant=tenant,
            account_id=OuterRef("pk"),
            stage__kind=StageKind.WON,
            deleted_at__isnull=True,
            closed_at__isnull=False,
        )
        .order_by()
        .values("account_id")
        .annotate(first=Min(TruncDate("closed_at", tzinfo=tenant.tzinfo)))
        .values("first")
    )
    return Subquery(won, output_field=DateField())


def _first_subscription_date(tenant: Tenant) -> Subquery:
    started = (
        Subscription.objects.filter(tenant=tenant, account_id=OuterRef("pk"), deleted_at__isnull=True)
        .order_by()
        .values("account_id")
        .annotate(first=Min("start_date"))
        .values("first")
    )
    return Subquery(started, output_field=DateField())


def accounts_with_first_customer_date(*, tenant: Tenant, accounts: QuerySet) -> QuerySet:
    """`accounts` annotated with `first_customer_date` (KPIS.md: the earlier of the first won deal's local close
    date and the first subscription start; None for a never-customer), computed in SQL for list pages."""
    won, started = _first_won_date(tenant), _first_subscription_date(tenant)
    # PostgreSQL's LEAST ignores NULLs: the one date that exists, or NULL when neither does.
    return accounts.annotate(first_won_date=won, first_subscription_date=started).annotate(
        first_customer_date=Least(F("first_won_date"), F("first_subscription_date"))
    )


def first_customer_dates(*, tenant: Tenant, account_ids: Iterable[int]) -> dict[int, datetime.date | None]:
    """first_customer_date per account id (one query)."""
    from accounts.models import Account

    rows = accounts_with_first_customer_date(
        tenant=tenant, accounts=Account.objects.filter(tenant=tenant, pk__in=list(account_ids))
    ).values_list("pk", "first_customer_date")
    return dict(rows)


def lifecycle_history(*, tenant: Tenant, account_id: int) -> QuerySet[LifecycleChange]:
    """An account's stage changes, oldest first."""
    return LifecycleChange.objects.filter(tenant=tenant, account_id=account_id).order_by("date")
