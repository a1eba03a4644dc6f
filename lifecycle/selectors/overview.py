"""Reads of the lifecycle page and its API: accounts per stage now (with their MRR), the flows between stages per
month (from the derived LifecycleChange history), and the accounts behind every number (the drill-downs).

Everything is read within the member's account visibility (accounts.selectors.visibility), in a fixed number of
aggregate queries whatever the data size: the accounts per stage, the MRR per stage, the flows (kept counts, plus
the accounts visible through the works-on rule). The MRR and the flows read the copies of the account's stage, owner
and liveness that subscriptions, stage changes and the kept counts carry (migrations 0006 and 0007 keep them),
with the same visibility rule applied to those columns.

A flow counts stage changes (one row of LifecycleChange each) whose date falls in a month of the tenant's
calendar (the dates of the history are already local dates). The drill-down of a flow lists exactly those rows,
so a number and its list always agree:
- new_accounts: an account's first row (created; from no stage);
- new_customers: into conversion from acquisition or as a new account (the first customer date);
- onboarded: conversion -> retention (onboarding period over);
- churned: into churn;
- came_back: out of churn, back to conversion or retention.
"""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db.models import (
    Count,
    DecimalField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce, TruncMonth
from django.utils.translation import gettext_lazy as _

from accounts.models import Account, LifecycleStageName
from accounts.selectors.visibility import (
    AccountColumns,
    account_queryset,
    account_visibility_parts,
    account_visibility_q,
    works_on_account_ids,
)
from crm.dates import tenant_today
from crm.models import Membership, Tenant
from lifecycle.models import LifecycleChange, LifecycleFlowCount, Subscription
from lifecycle.selectors.subscriptions import active_on

MONEY = DecimalField(max_digits=16, decimal_places=2)
MONTHS = 12

STAGE_KEYS = tuple(LifecycleStageName.values)
# Stages whose MRR means something now (acquisition has none; churn has none by definition).
STAGES_WITH_MRR = frozenset({LifecycleStageName.CONVERSION.value, LifecycleStageName.RETENTION.value})

_NONE = ""
_ACQ, _CONV, _RET, _CHURN = (
    LifecycleStageName.ACQUISITION.value,
    LifecycleStageName.CONVERSION.value,
    LifecycleStageName.RETENTION.value,
    LifecycleStageName.CHURN.value,
)


@dataclass(frozen=True)
class Flow:
    key: str
    label: Any
    q: Q


FLOWS: tuple[Flow, ...] = (
    Flow("new_accounts", _("New accounts"), Q(from_stage=_NONE)),
    Flow("new_customers", _("New customers"), Q(to_stage=_CONV, from_stage__in=[_NONE, _ACQ])),
    Flow("onboarded", _("Onboarded"), Q(from_stage=_CONV, to_stage=_RET)),
    Flow("churned", _("Churned"), Q(to_stage=_CHURN)),
    Flow("came_back", _("Came back"), Q(from_stage=_CHURN, to_stage__in=[_CONV, _RET])),
)
FLOW_KEYS = tuple(flow.key for flow in FLOWS)
FLOWS_BY_KEY = {flow.key: flow for flow in FLOWS}


def _add_months(first: datetime.date, months: int) -> datetime.date:
    index = first.year * 12 + first.month - 1 + months
    return datetime.date(index // 12, index % 12 + 1, 1)


def month_starts(
    *, tenant: Tenant, months: int = MONTHS, today: datetime.date | None = None
) -> list[datetime.date]:
    """The first days of the last `months` months of the tenant's calendar, oldest first, ending with this one."""
    this_month = (today or tenant_today(tenant)).replace(day=1)
    return [_add_months(this_month, -back) for back in range(months - 1, -1, -1)]


def parse_month(value: str | None) -> datetime.date | None:
    """ "2026-05" -> 2026-05-01; None for anything else."""
    match = re.fullmatch(r"(\d{4})-(\d{2})", value or "")
    if match is None or not 1 <= int(match.group(2)) <= 12:  # noqa: PLR2004 - months of a year
        return None
    return datetime.date(int(match.group(1)), int(match.group(2)), 1)


# The account fields that visibility reads, as lifecycle rows copy them (migration 0006).
COPIED = AccountColumns(pk="account_id", stage="account_stage", owner="account_owner_id")


def _visible_copies(qs: QuerySet, membership: Membership) -> QuerySet:
    """Rows of live accounts the member may see, by the copies of the account fields the row carries: the same
    rule as account_queryset (accounts.selectors.visibility), without a join to the accounts."""
    q = account_visibility_q(membership, columns=COPIED)
    qs = qs.filter(account_live=True)
    return qs if q is None else qs.filter(q)


def stage_counts(
    *, tenant: Tenant, membership: Membership, today: datetime.date | None = None
) -> list[dict[str, Any]]:
    """Visible accounts per stage now, with the MRR of their active subscriptions: a GROUP BY of the visible
    accounts (an index-only scan) and one of the active terms by the stage their account is in (the copies on the
    terms: joining every account to its terms took 0.4-2 s at 100,000 accounts in bench/lifecycle.py, and still
    most of the page once it was a plain join).
    `mrr` is None for the stages where it means nothing (acquisition, churn)."""
    today = today or tenant_today(tenant)
    visible = account_queryset(tenant=tenant, membership=membership)
    counts: dict[str, int] = {
        row["lifecycle_stage"]: row["n"]
        for row in visible.order_by().values("lifecycle_stage").annotate(n=Count("pk"))
    }
    terms = Subscription.objects.filter(active_on(today), tenant=tenant, account_stage__in=STAGES_WITH_MRR)
    parts = account_visibility_parts(membership, columns=COPIED)
    # cs sees every account of the stages with MRR: the terms then need no visibility filter (the same rows).
    visible_terms = (
        terms.filter(account_live=True)
        if parts.whole_stages >= STAGES_WITH_MRR
        else _visible_copies(terms, membership)
    )
    mrr: dict[str, Decimal] = {
        row["account_stage"]: row["mrr"]
        for row in visible_terms.order_by().values("account_stage").annotate(mrr=Sum("mrr"))
    }
    return [
        {
            "key": key,
            "label": label,
            "count": counts.get(key, 0),
            "mrr": (mrr.get(key) or Decimal(0)) if key in STAGES_WITH_MRR else None,
        }
        for key, label in LifecycleStageName.choices
    ]


def _visible_changes(*, tenant: Tenant, membership: Membership) -> QuerySet[LifecycleChange]:
    return _visible_copies(LifecycleChange.objects.filter(tenant=tenant), membership)


def monthly_flows(
    *,
    tenant: Tenant,
    membership: Membership,
    months: int = MONTHS,
    today: datetime.date | None = None,
) -> list[dict[str, Any]]:
    """For each of the last `months` months (oldest first): {"month": first day, <flow key>: count, ...}.

    The counts kept per (month, change, account stage, account owner) (LifecycleFlowCount) are summed where the
    viewer's rule on stage and owner holds; the accounts that are visible only because the viewer (or their
    team) works on them are counted from their stage changes directly: a GROUP BY each, whatever the tenant's
    size (the stage changes of a year were a scan of 114,000 rows at 100,000 accounts)."""
    firsts = month_starts(tenant=tenant, months=months, today=today)
    end = _add_months(firsts[-1], 1)
    parts = account_visibility_parts(membership, columns=COPIED)
    kept = LifecycleFlowCount.objects.filter(tenant=tenant, month__gte=firsts[0], month__lt=end)
    if parts.direct is not None:
        kept = kept.filter(parts.direct)
    found: dict[datetime.date, dict[str, int]] = {first: dict.fromkeys(FLOW_KEYS, 0) for first in firsts}
    for row in (
        kept.order_by()
        .values("month")
        .annotate(**{flow.key: Sum("n", filter=flow.q, default=0) for flow in FLOWS})
    ):
        for key in FLOW_KEYS:
            found[row["month"]][key] += row[key]
    if parts.direct is not None and parts.works_on_users is not None:
        worked_on = (
            LifecycleChange.objects.filter(
                tenant=tenant,
                account_live=True,
                date__gte=firsts[0],
                date__lt=end,
                account_id__in=works_on_account_ids(parts),
            )
            .exclude(parts.direct)
            .order_by()
            .annotate(month=TruncMonth("date"))
            .values("month")
            .annotate(**{flow.key: Count("pk", filter=flow.q) for flow in FLOWS})
        )
        for row in worked_on:
            for key in FLOW_KEYS:
                found[row["month"]][key] += row[key]
    return [{"month": first, **found[first]} for first in firsts]


def stage_accounts(
    *, tenant: Tenant, membership: Membership, stage: str, today: datetime.date | None = None
) -> QuerySet[Account]:
    """The visible accounts in `stage` now, the most MRR first, with `mrr_now` and the owner."""
    today = today or tenant_today(tenant)
    mrr = (
        Subscription.objects.filter(active_on(today), tenant=tenant, account_id=OuterRef("pk"))
        .order_by()
        .values("account_id")
        .annotate(total=Sum("mrr"))
        .values("total")
    )
    since = (
        LifecycleChange.objects.filter(tenant=tenant, account_id=OuterRef("pk"), to_stage=stage)
        .order_by("-date")
        .values("date")[:1]
    )
    return (
        account_queryset(tenant=tenant, membership=membership)
        .filter(lifecycle_stage=stage)
        .select_related("owner")
        .annotate(
            mrr_now=Coalesce(Subquery(mrr, output_field=MONEY), Value(Decimal(0)), output_field=MONEY),
            stage_since=Subquery(since),
        )
        .order_by("-mrr_now", "name", "pk")
    )


def flow_changes(
    *, tenant: Tenant, membership: Membership, flow: str, month: datetime.date
) -> QuerySet[LifecycleChange]:
    """The visible stage changes behind one flow in one month (the rows its number counts), with the account,
    its owner and current stage, newest first."""
    return (
        _visible_changes(tenant=tenant, membership=membership)
        .filter(FLOWS_BY_KEY[flow].q, date__gte=month, date__lt=_add_months(month, 1))
        .select_related("account", "account__owner")
        .order_by("-date", "account__name", "pk")
    )


def lifecycle_summary(
    *,
    tenant: Tenant,
    membership: Membership,
    months: int = MONTHS,
    today: datetime.date | None = None,
    last_month: datetime.date | None = None,
) -> dict[str, Any]:
    """Stages now and monthly flows of the `months` months ending with `last_month` (default: this month; a later
    one is this month too); the page and the API share it: two queries."""
    today = today or tenant_today(tenant)
    this_month = today.replace(day=1)
    if last_month is None or last_month > this_month:
        last_month = this_month
    return {
        "as_of": today,
        "last_month": last_month,
        "stages": stage_counts(tenant=tenant, membership=membership, today=today),
        "flows": monthly_flows(tenant=tenant, membership=membership, months=months, today=last_month),
    }
