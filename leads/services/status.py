"""The lead status flow: new → working → mql → sql (or back), disqualify and reopen; the status timestamps.
Converting is leads.services.conversion."""

from __future__ import annotations

import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from crm.history import history_actor
from crm.models import Tenant, User
from crm.records import actor_membership
from leads.models import Lead, LeadStatus
from leads.selectors.leads import STATUS_ORDER
from leads.services.access import check_can_edit

STATUS_STAMP: dict[str, str] = {
    LeadStatus.WORKING: "working_at",
    LeadStatus.MQL: "mql_at",
    LeadStatus.SQL: "sql_at",
    LeadStatus.CONVERTED: "converted_at",
    LeadStatus.DISQUALIFIED: "disqualified_at",
}


def status_values(status: str, at: datetime.datetime, reason: str) -> dict[str, Any]:
    """Column values of a move to `status`: its timestamp is stamped if missing (earlier ones are not back-filled:
    KPIS.md counts a lead as having reached a status when it has that timestamp or a later one)."""
    values: dict[str, Any] = {"status": status}
    if status == LeadStatus.DISQUALIFIED:
        values["disqualified_at"] = Value(at)
        values["disqualify_reason"] = reason
    else:
        values["disqualified_at"] = None
        values["disqualify_reason"] = ""
        stamp = STATUS_STAMP.get(status)
        if stamp:
            values[stamp] = Coalesce(stamp, Value(at))
    return values


def _validate_status_change(lead: Lead, status: str, reason: str) -> None:
    if status not in LeadStatus.values:
        raise ValidationError({"status": _("Unknown status.")})
    if lead.status == LeadStatus.CONVERTED:
        raise ValidationError({"status": _("A converted lead keeps its status.")})
    if status == LeadStatus.CONVERTED:
        raise ValidationError({"status": _("Use Convert to turn a lead into an account, contact and deal.")})
    if status == LeadStatus.DISQUALIFIED and not reason.strip():
        raise ValidationError({"reason": _("Say why the lead is disqualified.")})


@transaction.atomic
def lead_change_status(
    *,
    tenant: Tenant,
    actor: User | None,
    lead: Lead,
    status: str,
    reason: str = "",
    at: datetime.datetime | None = None,
) -> Lead:
    """Move a lead along new → working → mql → sql (or back), disqualify it (a reason is required) or reopen a
    disqualified one. Converting goes through lead_convert. Side effects: the status timestamp, history."""
    membership = actor_membership(tenant=tenant, actor=actor)
    check_can_edit(membership, lead)
    reason = (reason or "").strip()[:200]
    _validate_status_change(lead, status, reason)
    if status == lead.status and status != LeadStatus.DISQUALIFIED:
        return lead
    at = at or timezone.now()
    with history_actor(actor):
        Lead.objects.filter(tenant=tenant, pk=lead.pk).update(
            **status_values(status, at, reason), version=F("version") + 1, updated_at=timezone.now()
        )
    lead.refresh_from_db()
    return lead


@transaction.atomic
def leads_bulk_change_status(
    *, tenant: Tenant, actor: User | None, leads: list[Lead], status: str, reason: str = ""
) -> int:
    """The same status move for many leads in one UPDATE (the caller resolved the ids through the selector, so
    they are visible and editable). Converted leads refuse the whole request."""
    membership = actor_membership(tenant=tenant, actor=actor)
    reason = (reason or "").strip()[:200]
    for lead in leads:
        check_can_edit(membership, lead)
        _validate_status_change(lead, status, reason)
    ids = [lead.pk for lead in leads if lead.status != status or status == LeadStatus.DISQUALIFIED]
    if not ids:
        return 0
    now = timezone.now()
    with history_actor(actor):
        return Lead.objects.filter(tenant=tenant, pk__in=ids).update(
            **status_values(status, now, reason), version=F("version") + 1, updated_at=now
        )


def lead_status_reached(lead: Lead, status: str) -> bool:
    """KPIS.md: a lead reached a status if it has that timestamp or the timestamp of any later status."""
    if status == LeadStatus.NEW:
        return True
    index = STATUS_ORDER.index(status)
    return any(getattr(lead, STATUS_STAMP[s]) for s in STATUS_ORDER[index:] if s in STATUS_STAMP)
