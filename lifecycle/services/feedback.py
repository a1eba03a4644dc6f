"""Writes of customer feedback (NPS 0-10, CSAT 1-5): create, update, delete. Each write schedules a recompute of
the account's health after commit (feedback feeds its sentiment and trend)."""

from __future__ import annotations

import copy
import datetime
from collections.abc import Mapping, Sequence
from typing import Any, cast

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Account, Contact
from crm.bulk import copy_insert, copy_update
from crm.history import history_actor
from crm.models import Tenant, User
from crm.records import with_external_ids, without_external_id_clashes
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


def _clean(
    tenant: Tenant,
    feedback: Feedback,
    *,
    external_id_read: bool = False,
    holders: Mapping[str, int] | None = None,
) -> None:
    """Validate `feedback` in place; ValidationError lists every problem. `external_id_read`: the caller checks
    the external id against the stored feedback itself (feedback_create_many, for the set). `holders`: who holds
    each external id the set asks for, kept by the caller as its changes go (feedback_update_many), so the check
    costs no query per answer."""
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
    elif feedback.external_id and not external_id_read:
        if holders is not None:
            taken = holders.get(feedback.external_id, feedback.pk) != feedback.pk
        else:
            others = Feedback.objects.filter(tenant=tenant, external_id=feedback.external_id)
            if feedback.pk:
                others = others.exclude(pk=feedback.pk)
            taken = others.exists()
        if taken:
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
def feedback_create_many(
    *,
    tenant: Tenant,
    actor: User | None,
    drafts: Sequence[dict[str, Any]],
    external_ids_read: bool = False,
) -> list[Feedback | Exception]:
    """feedback_create for many answers at once (an import's chunk): each draft is feedback_create's keyword
    arguments, checked by the same rules; the external ids looked up once for the set, one INSERT, the accounts'
    health recomputed once for the set. Returns, in the order of `drafts`,
    each answer recorded or the error that kept it out. A constraint only the database checks raises for the
    whole set (the import then writes its rows one by one). `external_ids_read`: the caller read, in this
    transaction, every answer holding the drafts' external ids and passes only free ones (an import chunk)."""
    results: list[Feedback | Exception | None] = [None] * len(drafts)
    valid: list[tuple[int, Feedback]] = []
    for index, fields in enumerate(drafts):
        unknown = set(fields) - set(FEEDBACK_FIELDS)
        if unknown:
            results[index] = ValidationError(
                {name: _("This field cannot be set here.") for name in sorted(unknown)}
            )
            continue
        values = {"comment": "", "channel": FeedbackChannel.CALL, "external_id": "", **fields}
        values["comment"] = values["comment"] or ""
        values["external_id"] = values["external_id"] or ""
        feedback = Feedback(tenant=tenant, created_by=actor, **values)
        try:
            _clean(tenant, feedback, external_id_read=True)
        except ValidationError as exc:
            results[index] = exc
            continue
        valid.append((index, feedback))
    valid = without_external_id_clashes(
        model=Feedback,
        tenant=tenant,
        valid=valid,
        results=results,
        can_edit=lambda _holder: True,  # feedback_create's message, whoever may see the holder
        message=_("Other feedback has this external id."),
        read=external_ids_read,
    )
    recorded = [feedback for _index, feedback in valid]
    with history_actor(actor):
        copy_insert(Feedback, recorded)
    if recorded:
        health_schedule_recompute(
            tenant_id=tenant.pk, account_ids=sorted({feedback.account_id for feedback in recorded})
        )
    for index, feedback in valid:
        results[index] = feedback
    return cast(list[Feedback | Exception], results)  # every draft got its answer or its error above


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


# What feedback_update's save() writes of an answer: every field a change may give or _clean may rewrite in place
# (stripped text, a whole-number score, a stamped receipt time), and the auto_now stamp.
_UPDATED_FIELDS = (*FEEDBACK_FIELDS, "updated_at")


@transaction.atomic
def feedback_update_many(
    *, tenant: Tenant, actor: User | None, changes: Sequence[tuple[Feedback, dict[str, Any]]]
) -> list[Feedback | Exception]:
    """feedback_update for many answers at once (an import: a file imported again): `changes` are (the answer,
    its new values), checked in order by the same rules. The answers are read again and locked in one query, the
    external ids the changes ask for are looked up once, and every valid change is written by one UPDATE, even
    one that changes no value: feedback_update always saves, so each answer gets its new updated_at and an update
    history event booked to the actor. Side effect: one health recompute of the old and new accounts after commit.
    Returns, in the order of `changes`, each answer as it now is or the error that kept it as it was. A constraint
    only the database checks raises for the whole set (the import then writes its rows one by one)."""
    if not changes:
        return []
    results: list[Feedback | Exception | None] = [None] * len(changes)
    allowed = set(FEEDBACK_FIELDS)
    # _clean reads the answer's account and contact: loaded here with the answers, not once per answer.
    current = {
        feedback.pk: feedback
        for feedback in Feedback.objects.select_for_update(of=("self",))
        .select_related("account", "contact")
        .filter(tenant=tenant, pk__in=[feedback.pk for feedback, fields in changes if set(fields) <= allowed])
    }
    # Who holds each external id a change asks for, kept as the changes go: an id a change frees can be taken by a
    # later one, an id a change takes is refused to later ones, as the changes written one by one in order give.
    wanted = {
        value.strip()
        for _feedback, fields in changes
        if isinstance(value := fields.get("external_id"), str) and value.strip()
    }
    holders: dict[str, int] = (
        dict(with_external_ids(Feedback, tenant=tenant, external_ids=wanted).values_list("external_id", "pk"))
        if wanted
        else {}
    )
    written: dict[int, Feedback] = {}
    accounts: set[int] = set()
    for index, (feedback, fields) in enumerate(changes):
        unknown = set(fields) - allowed
        if unknown:
            results[index] = ValidationError(
                {name: _("This field cannot be changed.") for name in sorted(unknown)}
            )
            continue
        stored = current.get(feedback.pk)
        if stored is None:
            results[index] = Feedback.DoesNotExist()
            continue
        # A copy: a refused change leaves the answer as it was for the set's later changes.
        draft = copy.copy(stored)
        for name, value in fields.items():
            setattr(draft, name, value)
        try:
            _clean(tenant, draft, holders=holders)
        except ValidationError as exc:
            results[index] = exc
            continue
        if holders.get(stored.external_id) == draft.pk:
            del holders[stored.external_id]
        if draft.external_id:
            holders[draft.external_id] = draft.pk
        current[draft.pk] = draft
        written[draft.pk] = draft  # an answer changed twice: written as its last change left it
        accounts.update((stored.account_id, draft.account_id))
        results[index] = draft
    if written:
        with history_actor(actor):
            copy_update(Feedback, list(written.values()), _UPDATED_FIELDS)
        health_schedule_recompute(tenant_id=tenant.pk, account_ids=sorted(accounts))
    return cast(list[Feedback | Exception], results)  # every change got its answer or its error above


@transaction.atomic
def feedback_delete(*, tenant: Tenant, actor: User | None, feedback: Feedback) -> None:
    with history_actor(actor):
        Feedback.objects.filter(tenant=tenant, pk=feedback.pk).delete()
    health_schedule_recompute(tenant_id=tenant.pk, account_ids=[feedback.account_id])
