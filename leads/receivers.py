"""Receivers of the accounts app's signals (connected in LeadsConfig.ready()): accounts sits below leads and does
not import it, so it announces activities logged on a lead and the leads app applies its rules."""

from __future__ import annotations

import datetime
from typing import Any

from django.core.exceptions import PermissionDenied

from crm.models import Tenant, User
from leads.models import Lead
from leads.services.activity import (
    lead_check_can_log_activity,
    lead_record_activity,
    leads_record_activities,
    leads_refusing_activities,
)


def on_activity_logging(
    sender: Any, *, tenant: Tenant, actor: User | None, lead: Lead, **kwargs: Any
) -> None:
    """Logging on a lead needs edit rights on it: raises PermissionDenied otherwise."""
    lead_check_can_log_activity(tenant=tenant, actor=actor, lead=lead)


def on_activities_logging_many(
    sender: Any, *, tenant: Tenant, actor: User | None, leads: list[Lead], **kwargs: Any
) -> dict[int, PermissionDenied]:
    """The same rule for many leads at once (an import's chunk): the leads refused, by id, with the reason."""
    return leads_refusing_activities(tenant=tenant, actor=actor, leads=leads)


def on_activity_logged(
    sender: Any,
    *,
    tenant: Tenant,
    lead: Lead,
    at: datetime.datetime | None,
    kind: str,
    done: bool,
    **kwargs: Any,
) -> None:
    """Done calls, emails and meetings move the lead's activity clock (and new -> working); any done activity
    rescores it."""
    lead_record_activity(tenant=tenant, lead=lead, at=at, kind=kind, done=done)


def on_activities_logged_many(sender: Any, *, tenant: Tenant, activities: list[Any], **kwargs: Any) -> None:
    """Many activities logged at once (an import's chunk): the same rules as on_activity_logged, as a set."""
    leads_record_activities(tenant=tenant, activities=activities)
