"""Reads of health: the at-risk list (visible accounts under the threshold, by MRR at stake), an account's score,
the API's list, and the reasons of a score in words (from the components' reason codes)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.db.models import DecimalField, OuterRef, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from accounts.models import DEFAULT_STAGE_LABELS, Account, Tier
from accounts.selectors.visibility import account_queryset
from crm.dates import tenant_today
from crm.models import Membership, Tenant
from lifecycle.models import HealthComponent, HealthScore, Subscription
from lifecycle.selectors.subscriptions import active_on
from lifecycle.services.settings import lifecycle_settings_get

MONEY = DecimalField(max_digits=16, decimal_places=2)


def mrr_today(tenant: Tenant) -> Subquery:
    """The account's MRR today: the sum of its active subscriptions' MRR (a subquery on OuterRef("account_id"))."""
    today = tenant_today(tenant)
    active = (
        Subscription.objects.filter(active_on(today), tenant=tenant, account_id=OuterRef("account_id"))
        .order_by()
        .values("account_id")
        .annotate(total=Sum("mrr"))
        .values("total")
    )
    return Subquery(active, output_field=MONEY)


def health_list(*, tenant: Tenant, membership: Membership) -> QuerySet[HealthScore]:
    """Scores of the accounts the member may see, with the account and its MRR today."""
    visible = account_queryset(tenant=tenant, membership=membership).values("pk")
    return (
        HealthScore.objects.filter(tenant=tenant, account_id__in=visible)
        .select_related("account", "account__owner")
        .annotate(mrr=Coalesce(mrr_today(tenant), Value(Decimal(0)), output_field=MONEY))
    )


def at_risk_list(*, tenant: Tenant, membership: Membership) -> QuerySet[HealthScore]:
    """Visible accounts under the at-risk threshold, the most MRR at stake first (then the lowest score)."""
    threshold = lifecycle_settings_get(tenant=tenant).health_at_risk_threshold
    return (
        health_list(tenant=tenant, membership=membership)
        .filter(score__lt=threshold)
        # mrr is health_list's annotation, which the django-stubs plugin does not follow across functions
        .order_by("-mrr", "score", "account_id")  # type: ignore[misc]
    )


def health_for_account(*, tenant: Tenant, membership: Membership, account: Account) -> HealthScore | None:
    return health_list(tenant=tenant, membership=membership).filter(account=account).first()


def _tier_label(tier: str | None) -> str:
    try:
        return str(Tier(tier or "").label).lower()  # no tier raises ValueError like an unknown one
    except ValueError:
        return str(tier or "")


def health_reasons(components: dict[str, Any]) -> list[str]:
    """The reasons of a score in words, worst first (the components that lost the most points)."""
    found: list[tuple[int, str]] = []
    for name, part in (components or {}).items():
        if not isinstance(part, dict) or not part.get("reason"):
            continue
        lost = int(part.get("weight") or 0) - int(part.get("points") or 0)
        text = _reason_text(name, part)
        if text:
            found.append((lost, text))
    found.sort(key=lambda item: -item[0])
    return [text for _lost, text in found]


def health_component_rows(components: dict[str, Any]) -> list[dict[str, Any]]:
    """The components of a score in their fixed order for a table: label, points of weight, reason in words."""
    rows = []
    for name, label in HealthComponent.choices:
        part = (components or {}).get(name)
        if not isinstance(part, dict):
            continue
        rows.append(
            {
                "key": name,
                "label": label,
                "points": int(part.get("points") or 0),
                "weight": int(part.get("weight") or 0),
                "reason": _reason_text(name, part) if part.get("reason") else "",
            }
        )
    return rows


def _reason_text(name: str, part: dict[str, Any]) -> str:  # noqa: PLR0911 - one branch per reason code
    reason = part["reason"]
    value: Any = part.get("value")
    if reason == "no_touch":
        return _("No touch yet")
    if reason == "last_touch" and name == "recency":
        return ngettext("Last touch %(n)d day ago", "Last touch %(n)d days ago", value) % {"n": value}
    if reason == "cadence_missed":
        if value is None:
            return ""
        return _("No touch for %(days)d days (%(tier)s accounts: every %(cadence)d)") % {
            "days": value,
            "tier": _tier_label(part.get("tier")),
            "cadence": part.get("cadence") or 0,
        }
    if reason == "low_activity":
        if not value:
            return _("No activity in 90 days")
        return ngettext("Only %(n)d activity in 90 days", "Only %(n)d activities in 90 days", value) % {
            "n": value
        }
    if reason == "no_feedback":
        return _("No NPS or CSAT feedback yet")
    if reason == "low_nps":
        return _("Latest NPS %(score)d") % {"score": part.get("nps")}
    if reason == "low_csat":
        return _("Latest CSAT %(score)d") % {"score": part.get("csat")}
    if reason == "nps_fell":
        return _("NPS fell from %(before)d to %(after)d") % {"before": part["from"], "after": part["to"]}
    if reason == "csat_fell":
        return _("CSAT fell from %(before)d to %(after)d") % {"before": part["from"], "after": part["to"]}
    if reason == "renewal_early":
        days = part.get("days_left")
        stage = part.get("stage") or ""
        # The default pipeline's stage names in the reader's language (as the deal page shows them).
        stage = str(DEFAULT_STAGE_LABELS.get(stage, stage))
        if days is None:
            return _("Renewal still in %(stage)s") % {"stage": stage}
        if days < 0:
            return ngettext(
                "Renewal %(n)d day overdue, still in %(stage)s",
                "Renewal %(n)d days overdue, still in %(stage)s",
                -days,
            ) % {"n": -days, "stage": stage}
        return ngettext(
            "Renewal in %(n)d day still in %(stage)s", "Renewal in %(n)d days still in %(stage)s", days
        ) % {"n": days, "stage": stage}
    if reason == "overdue_tasks":
        return ngettext("%(n)d overdue task", "%(n)d overdue tasks", value) % {"n": value}
    return ""
