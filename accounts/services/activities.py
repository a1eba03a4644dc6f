"""Writes of activities and tasks: log, update, complete, reopen, snooze, delete, restore; and the activity writes
the leads app asks for (pool notes, a converted lead's activities joining the account)."""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from typing import Any

from django.utils import timezone

from accounts.models import Activity, ActivityKind, Contact
from crm.models import Tenant


def activity_notes_create_for_leads(
    *, tenant: Tenant, notes: Sequence[tuple[int, str]], at: datetime.datetime
) -> int:
    """Bulk-insert one done note per (lead id, subject) at `at`, owned by nobody (the system wrote it, e.g. "returned
    to pool"). No lead side effects: the caller is the leads app itself. Returns how many were created."""
    created = Activity.objects.bulk_create(
        [
            Activity(
                tenant=tenant,
                kind=ActivityKind.NOTE,
                subject=subject,
                owner=None,
                lead_id=lead_id,
                occurred_at=at,
                done=True,
            )
            for lead_id, subject in notes
        ],
        batch_size=2000,
    )
    return len(created)


def activity_notes_create_for_leads_dated(
    *, tenant: Tenant, notes: Sequence[tuple[int, str, datetime.datetime]]
) -> int:
    """Like activity_notes_create_for_leads, each note at its own time: (lead id, subject, occurred at). For seeding
    a past history (the leads demo's pool returns). Returns how many were created."""
    created = Activity.objects.bulk_create(
        [
            Activity(
                tenant=tenant,
                kind=ActivityKind.NOTE,
                subject=subject,
                owner=None,
                lead_id=lead_id,
                occurred_at=at,
                done=True,
            )
            for lead_id, subject, at in notes
        ],
        batch_size=2000,
    )
    return len(created)


def activities_attach_lead_to_account(
    *, tenant: Tenant, lead_id: int, account: Any, contact: Contact | None
) -> None:
    """A converted lead's activities stay on the lead and now also belong to the account (and contact), so the
    account's timeline tells the whole story; links they already had are kept."""
    activities = Activity.objects.filter(tenant=tenant, lead_id=lead_id)
    activities.filter(account__isnull=True).update(account=account, updated_at=timezone.now())
    if contact is not None:
        activities.filter(contact__isnull=True).update(contact=contact, updated_at=timezone.now())
