"""The public pool: its rows, the per-rep open-claims count, the pool settings and the pool health figures."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, F, Min, Q, QuerySet
from django.db.models.functions import Coalesce, Greatest, TruncWeek
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from crm.models import Membership, Tenant, User
from crm.visibility import owner_scope
from leads.filters.leads import LeadFilterSet
from leads.models import Lead, LeadPoolEvent, LeadSettings, PoolEventKind
from leads.selectors.leads import LEAD_ROLES, OPEN_STATUSES, lead_filterset, pool_q


def pool_inbox(
    *, tenant: Tenant, membership: Membership, params: Any
) -> tuple[LeadFilterSet, QuerySet[Lead]]:
    qs = pool_queryset(tenant=tenant, membership=membership)
    filterset = lead_filterset(
        tenant=tenant, membership=membership, filters=params, queryset=qs, narrow_search=False
    )
    rows = filterset.qs if filterset.is_valid() else qs.none()
    return filterset, rows.select_related("source", "campaign").annotate(
        pool_since=Coalesce("pooled_at", "created_at")
    )


def lead_settings_get(*, tenant: Tenant) -> LeadSettings:
    """The tenant's lead settings (defaults, unsaved, when never edited)."""
    found = LeadSettings.objects.filter(tenant=tenant).first()
    return found or LeadSettings(tenant=tenant)


def pool_queryset(*, tenant: Tenant, membership: Membership) -> QuerySet[Lead]:
    if membership.role not in LEAD_ROLES:
        return Lead.objects.none()
    return Lead.objects.filter(tenant=tenant, deleted_at=None).filter(pool_q())


def pool_list(*, tenant: Tenant, membership: Membership, filters: Any = None) -> QuerySet[Lead]:
    """Open leads nobody owns, longest in the pool first by default; the inbox filters apply."""
    qs = pool_queryset(tenant=tenant, membership=membership)
    if filters:
        filterset = lead_filterset(tenant=tenant, membership=membership, filters=filters, queryset=qs)
        qs = filterset.qs if filterset.is_valid() else qs.none()
    return qs.select_related("source", "campaign").annotate(pool_since=Coalesce("pooled_at", "created_at"))


def open_claims_count(*, tenant: Tenant, user_id: int) -> int:
    """Leads claimed from the pool that the rep holds open now (what the cap limits)."""
    return Lead.objects.filter(
        tenant=tenant,
        owner_id=user_id,
        claimed_at__isnull=False,
        status__in=OPEN_STATUSES,
        deleted_at=None,
    ).count()


@dataclass
class PoolHealth:
    size: int
    age_buckets: list[tuple[Any, int]]
    weeks: list[dict]
    per_rep: list[dict]
    oldest: datetime.datetime | None


AGE_BUCKETS = [
    (0, 7, _("under a week")),
    (7, 30, _("1–4 weeks")),
    (30, 90, _("1–3 months")),
    (90, None, _("over 3 months")),
]


def pool_health(
    *, tenant: Tenant, membership: Membership, weeks: int = 8, now: datetime.datetime | None = None
) -> PoolHealth:
    """Size and age of the pool, returns and claims per week (tenant time zone), claims per rep. Four queries."""
    now = now or timezone.now()
    since = Coalesce("pooled_at", "created_at")
    aggregates = {"size": Count("pk"), "oldest": Min(since)}
    for index, (low, high, _label) in enumerate(AGE_BUCKETS):
        cond = Q(pool_since__lte=now - datetime.timedelta(days=low)) if low else Q()
        if high is not None:
            cond &= Q(pool_since__gt=now - datetime.timedelta(days=high))
        aggregates[f"b{index}"] = Count("pk", filter=cond)
    stats = (
        pool_queryset(tenant=tenant, membership=membership).alias(pool_since=since).aggregate(**aggregates)
    )
    start = now - datetime.timedelta(weeks=weeks)
    per_week = (
        LeadPoolEvent.objects.filter(tenant=tenant, at__gte=start)
        .annotate(week=TruncWeek("at", tzinfo=tenant.tzinfo))
        .values("week", "kind")
        .annotate(n=Count("pk"))
    )
    by_week: dict = {}
    for row in per_week:
        by_week.setdefault(row["week"].date(), {})[row["kind"]] = row["n"]
    local_today = timezone.localtime(now, tenant.tzinfo).date()
    monday = local_today - datetime.timedelta(days=local_today.weekday())
    week_rows = []
    for offset in range(weeks - 1, -1, -1):
        week = monday - datetime.timedelta(weeks=offset)
        counts = by_week.get(week, {})
        week_rows.append(
            {
                "week": week,
                "returned": counts.get(PoolEventKind.RETURNED, 0),
                "claimed": counts.get(PoolEventKind.CLAIMED, 0),
            }
        )
    scope = owner_scope(membership)
    claims = LeadPoolEvent.objects.filter(
        tenant=tenant, kind=PoolEventKind.CLAIMED, at__gte=start, user__isnull=False
    )
    held = Lead.objects.filter(
        tenant=tenant,
        claimed_at__isnull=False,
        status__in=OPEN_STATUSES,
        deleted_at=None,
        owner__isnull=False,
    )
    if scope is not None:
        claims = claims.filter(user_id__in=scope)
        held = held.filter(owner_id__in=scope)
    claim_counts = dict(claims.values_list("user_id").annotate(n=Count("pk")).values_list("user_id", "n"))
    held_counts = dict(held.values_list("owner_id").annotate(n=Count("pk")).values_list("owner_id", "n"))
    user_ids = set(claim_counts) | set(held_counts)
    users = {u.pk: u for u in User.objects.filter(pk__in=user_ids)} if user_ids else {}
    per_rep = sorted(
        (
            {"user": users[uid], "claimed": claim_counts.get(uid, 0), "held": held_counts.get(uid, 0)}
            for uid in user_ids
            if uid in users
        ),
        key=lambda row: (-row["claimed"], -row["held"], row["user"].display_name),
    )
    return PoolHealth(
        size=stats["size"],
        age_buckets=[(label, stats[f"b{i}"]) for i, (_l, _h, label) in enumerate(AGE_BUCKETS)],
        weeks=week_rows,
        per_rep=per_rep,
        oldest=stats["oldest"],
    )


def pool_clock() -> Greatest:
    """When a lead's idle time started: the latest of its last activity, its assignment or claim, its creation."""
    return Greatest(
        Coalesce("last_activity_at", "created_at"), Coalesce("assigned_at", "created_at"), F("created_at")
    )
