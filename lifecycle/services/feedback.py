"""Writes of customer feedback (NPS 0-10, CSAT 1-5): create, update, delete. Each write schedules a recompute of
the account's health after commit (feedback feeds its sentiment and trend)."""

from __future__ import annotations

import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Account, Contact
from crm.history import history_actor
from crm.models import Tenant, User
from crm.validators import date_in_range, out_of_range_message
from lifecycle.models import FEEDBACK_RANGES, Feedback, FeedbackChannel, FeedbackKind
from lifecycle.services.health import health_schedule_recompute

FEEDBACK_FIELDS = ("external_id", "account", "contact", "kind", "score", "comment", "channel", "received_at")


def _score(raw: Any) -> int | None:
    if isinstance(raw, bool) or raw is None or raw == "":
        return None
    if isinstance(raw, float):
        return int(raw) if raw.is_integer() else None
    try:
        return int(str(raw).strip())
    except ValueError:
        return None


def _clean(tenant: Tenant, feedback: Feedback) -> None:
    """Validate `feedback` in place; ValidationError lists every problem."""
    errors: dict[str, list[str]] = {}
    feedback.external_id = (feedback.external_id or "").strip()
    feedback.comment = (feedback.comment or "").strip()
    if feedback.kind not in FeedbackKind.values:
        errors["kind"] = [_("Choose nps or csat.")]
    score = _score(feedback.score)
    if score is None:
        errors["score"] = [_("Enter a whole number.")]
    elif feedback.kind in FEEDBACK_RANGES:
        low, high = FEEDBACK_RANGES[feedback.kind]
        if not low <= score <= high:
            errors["score"] = [
                _("A %(kind)s score is a whole number from %(low)d to %(high)d.")
                % {"kind": feedback.kind.upper(), "low": low, "high": high}
            ]
    if score is not None:
        feedback.score = score
    if feedback.channel not in FeedbackChannel.values:
        errors["channel"] = [_("Unknown channel.")]
    account = feedback.account if feedback.account_id else None
    if account is None or account.tenant_id != tenant.pk or account.deleted_at is not None:
        errors["account"] = [_("Choose an account.")]
    if feedback.contact_id:
        contact = feedback.contact
        if contact is None or contact.tenant_id != tenant.pk or contact.deleted_at is not None:
            errors["contact"] = [_("Choose a contact.")]
        elif account is not None and contact.account_id != account.pk:
            errors["contact"] = [_("Choose a contact of this account.")]
    if feedback.received_at is None:
        feedback.received_at = timezone.now()
    elif not isinstance(feedback.received_at, datetime.datetime) or not date_in_range(feedback.received_at):
        errors["received_at"] = [out_of_range_message()]
    elif feedback.received_at > timezone.now() + datetime.timedelta(days=1):
        errors["received_at"] = [_("Feedback cannot be received in the future.")]
    if len(feedback.external_id) > 100:
        errors["external_id"] = [_("Use at most 100 characters.")]
    elif feedback.external_id:
        taken = Feedback.objects.filter(tenant=tenant, external_id=feedback.external_id)
        if feedback.pk:
            taken = taken.exclude(pk=feedback.pk)
        if taken.exists():
            errors["external_id"] = [_("Other feedback has this external id.")]
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def feedback_create(
    *,
    tenant: Tenant,
    actor: User | None,
    account: Account,
    kind: str,
    score: Any,
    comment: str = "",
    channel: str = FeedbackChannel.CALL,
    received_at: datetime.datetime | None = None,
    contact: Contact | None = None,
    external_id: str = "",
    survey_nonce: str = "",
) -> Feedback:
    """Record an answer. Side effects: history event; the account's health recomputed after commit."""
    feedback = Feedback(
        tenant=tenant,
        account=account,
        contact=contact,
        kind=kind,
        score=score,
        comment=comment or "",
        channel=channel,
        # None until _clean() stamps now; the stubs type the constructor as for a saved row
        received_at=received_at,  # type: ignore[misc]
        external_id=external_id or "",
        survey_nonce=survey_nonce,
        created_by=actor,
    )
    _clean(tenant, feedback)
    with history_actor(actor):
        feedback.save()
    health_schedule_recompute(tenant_id=tenant.pk, account_ids=[account.pk])
    return feedback


@transaction.atomic
def feedback_update(*, tenant: Tenant, actor: User | None, feedback: Feedback, **fields: Any) -> Feedback:
    """Change some fields. Side effects: history event; health of the old and new account recomputed."""
    unknown = set(fields) - set(FEEDBACK_FIELDS)
    if unknown:
        raise ValidationError({name: _("This field cannot be changed.") for name in sorted(unknown)})
    current = Feedback.objects.select_for_update().filter(tenant=tenant, pk=feedback.pk).first()
    if current is None:
        raise Feedback.DoesNotExist
    before = current.account_id
    for name, value in fields.items():
        setattr(current, name, value)
    _clean(tenant, current)
    with history_actor(actor):
        current.save()
    health_schedule_recompute(tenant_id=tenant.pk, account_ids=[before, current.account_id])
    return current


@transaction.atomic
def feedback_delete(*, tenant: Tenant, actor: User | None, feedback: Feedback) -> None:
    with history_actor(actor):
        Feedback.objects.filter(tenant=tenant, pk=feedback.pk).delete()
    health_schedule_recompute(tenant_id=tenant.pk, account_ids=[feedback.account_id])
