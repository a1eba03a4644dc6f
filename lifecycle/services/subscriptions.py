"""Writes of subscriptions: create, update (optimistic locking on `version`), soft delete and restore.

Every write runs in one transaction, books the change to the actor in history (django-pghistory) and schedules a
recompute of the account's lifecycle stages after commit (a subscription moves them, back-dated ones included).
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any, cast

from django.core.exceptions import ObjectDoesNotExist, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Account
from crm.bulk import copy_insert, copy_update
from crm.history import history_actor
from crm.models import Tenant, User
from crm.records import (
    EXTERNAL_ID_UNAVAILABLE,
    actor_membership,
    record_check_version,
    record_restore,
    record_soft_delete,
    record_update_versioned,
    without_external_id_clashes,
)
from lifecycle.models import Subscription
from lifecycle.selectors.subscriptions import can_edit_subscriptions, subscription_account_q
from lifecycle.services.stages import lifecycle_schedule_recompute

CENT = Decimal("0.01")
# subscription_create's defaults, as subscriptions_create_many applies them to a draft.
CREATE_DEFAULTS: dict[str, Any] = {
    "external_id": "",
    "plan": "",
    "mrr": 0,
    "currency": None,
    "end_date": None,
    "renews_from": None,
    "churn_reason": "",
}
SUBSCRIPTION_FIELDS = (
    "external_id",
    "plan",
    "mrr",
    "currency",
    "start_date",
    "end_date",
    "renews_from",
    "churn_reason",
)


def _can_change(tenant: Tenant, actor: User | None, subscription: Subscription) -> bool:
    """Whether the actor may write this subscription: a role that writes subscriptions, of an account whose
    subscriptions they see (system actors may)."""
    membership = actor_membership(tenant=tenant, actor=actor)
    if membership is None:
        return True
    if not can_edit_subscriptions(membership):
        return False
    q = subscription_account_q(membership)
    return q is None or Account.objects.filter(q, tenant=tenant, pk=subscription.account_id).exists()


def _as_date(value: Any, field: str, errors: dict[str, list[str]]) -> datetime.date | None:
    if value in (None, ""):
        return None
    if isinstance(value, datetime.datetime):
        value = value.date()
    if isinstance(value, datetime.date):
        return value
    try:
        return datetime.date.fromisoformat(str(value).strip())
    except ValueError:
        errors.setdefault(field, []).append(_("Enter a date as YYYY-MM-DD."))
        return None


def _clean(
    tenant: Tenant,
    values: dict[str, Any],
    *,
    current: Subscription | None,
    actor: User | None = None,
    external_id_read: bool = False,
) -> dict[str, Any]:
    """Validate and normalise the given fields (all of them on create); ValidationError lists every problem.
    `external_id_read`: the caller checks the external id against the stored subscriptions itself, for a set
    (subscriptions_create_many)."""
    errors: dict[str, list[str]] = {}
    clean: dict[str, Any] = {}
    if "external_id" in values:
        clean["external_id"] = (values["external_id"] or "").strip()
    if "plan" in values:
        clean["plan"] = (values["plan"] or "").strip()[:200]
    if "churn_reason" in values:
        clean["churn_reason"] = (values["churn_reason"] or "").strip()
    if "mrr" in values:
        try:
            mrr = Decimal(str(values["mrr"] if values["mrr"] not in (None, "") else "0"))
        except InvalidOperation:
            errors.setdefault("mrr", []).append(_("Enter a number."))
        else:
            if not mrr.is_finite() or mrr < 0:
                errors.setdefault("mrr", []).append(_("MRR cannot be negative."))
            elif mrr >= Decimal("1e12"):
                errors.setdefault("mrr", []).append(_("This amount is too large."))
            else:
                clean["mrr"] = mrr.quantize(CENT, ROUND_HALF_UP)
    if "currency" in values:
        currency = (values["currency"] or tenant.currency).strip().upper()
        if len(currency) != 3 or not currency.isalpha() or not currency.isascii():
            errors.setdefault("currency", []).append(
                _("Use a three-letter currency code such as CNY or EUR.")
            )
        clean["currency"] = currency
    if "start_date" in values:
        start = _as_date(values["start_date"], "start_date", errors)
        if start is None and "start_date" not in errors:
            errors.setdefault("start_date", []).append(_("Enter a start date."))
        clean["start_date"] = start
    if "end_date" in values:
        clean["end_date"] = _as_date(values["end_date"], "end_date", errors)
    start = clean.get("start_date", current.start_date if current else None)
    end = clean.get("end_date", current.end_date if current else None)
    if start is not None and end is not None and end <= start and not errors.get("end_date"):
        errors.setdefault("end_date", []).append(_("The end date must be after the start date."))
    if "renews_from" in values:
        previous = values["renews_from"]
        account_id = values["account"].pk if "account" in values else current.account_id if current else None
        if previous is not None and (
            previous.tenant_id != tenant.pk
            or previous.account_id != account_id
            or (current is not None and previous.pk == current.pk)
        ):
            errors.setdefault("renews_from", []).append(_("Choose a subscription of the same account."))
        clean["renews_from"] = previous
    external_id = clean.get("external_id")
    if len(external_id or "") > 100:
        errors.setdefault("external_id", []).append(_("Use at most 100 characters."))
    elif external_id and not external_id_read:
        taken = Subscription.objects.filter(tenant=tenant, external_id=external_id)
        if current is not None:
            taken = taken.exclude(pk=current.pk)
        other = taken.first()
        if other is not None:
            message = _("Another subscription has this external id.")
            if not _can_change(tenant, actor, other):
                message = str(EXTERNAL_ID_UNAVAILABLE)  # whether they can see it or not (crm.records)
            errors.setdefault("external_id", []).append(message)
    if errors:
        raise ValidationError(errors)
    return clean


@transaction.atomic
def subscription_create(
    *,
    tenant: Tenant,
    actor: User | None,
    account: Account,
    start_date: datetime.date | str,
    mrr: Decimal | str | int = 0,
    plan: str = "",
    currency: str | None = None,
    end_date: datetime.date | str | None = None,
    renews_from: Subscription | None = None,
    churn_reason: str = "",
    external_id: str = "",
    created_at: datetime.datetime | None = None,
    recompute: bool = True,
) -> Subscription:
    """Create a subscription of `account` (currency: the tenant's when not given). Side effects: history event,
    the account's lifecycle recomputed after commit (`recompute=False`: the caller schedules it, as an import
    does once at the end of its job)."""
    if account.tenant_id != tenant.pk:
        raise Account.DoesNotExist
    clean = _clean(
        tenant,
        {
            "account": account,
            "external_id": external_id,
            "plan": plan,
            "mrr": mrr,
            "currency": currency,
            "start_date": start_date,
            "end_date": end_date,
            "renews_from": renews_from,
            "churn_reason": churn_reason,
        },
        current=None,
        actor=actor,
    )
    subscription = Subscription(
        tenant=tenant, account=account, created_at=created_at or timezone.now(), **clean
    )
    # Read by lifecycle.receivers: a caller that recomputes later (an import, once per job) skips the per-save one.
    subscription.skip_lifecycle_recompute = not recompute  # type: ignore[attr-defined]
    with history_actor(actor):
        subscription.save()
    if recompute:
        lifecycle_schedule_recompute(tenant_id=tenant.pk, account_ids=[account.pk])
    return subscription


@transaction.atomic
def subscriptions_create_many(
    *,
    tenant: Tenant,
    actor: User | None,
    drafts: Sequence[dict[str, Any]],
    external_ids_read: bool = False,
    recompute: bool = True,
) -> list[Subscription | Exception]:
    """subscription_create for many subscriptions at once (an import's chunk): each draft is its keyword
    arguments (`account` and `start_date` required), checked by the same rules; the external ids looked up once
    for the set (not at all when the caller `external_ids_read` them in this transaction: an import chunk's
    lookups) and one INSERT (history events from the database's statement trigger, booked to the actor; the
    database's triggers keep the terms' renewal flags and account copies as for one insert). Side effect: one
    lifecycle recompute of the set's accounts after commit (`recompute=False`: the caller schedules it, as an
    import does at its job's end). Returns, in the order of `drafts`, each subscription created or the error that
    kept it out; a constraint only the database checks raises for the whole set."""
    results: list[Subscription | Exception | None] = [None] * len(drafts)
    valid: list[tuple[int, Subscription]] = []
    moment = timezone.now()
    for index, draft in enumerate(drafts):
        values = dict(draft)
        account = values.pop("account", None)
        created_at = values.pop("created_at", None)
        unknown = set(values) - set(SUBSCRIPTION_FIELDS)
        if unknown:
            results[index] = ValidationError(
                {name: _("This field cannot be set here.") for name in sorted(unknown)}
            )
            continue
        if account is None:
            results[index] = ValidationError({"account": _("Choose an account.")})
            continue
        if account.tenant_id != tenant.pk:
            results[index] = Account.DoesNotExist()
            continue
        try:
            clean = _clean(
                tenant,
                {"account": account, **CREATE_DEFAULTS, "start_date": None, **values},
                current=None,
                actor=actor,
                external_id_read=True,
            )
        except ValidationError as exc:
            results[index] = exc
            continue
        valid.append(
            (index, Subscription(tenant=tenant, account=account, created_at=created_at or moment, **clean))
        )
    valid = without_external_id_clashes(
        model=Subscription,
        tenant=tenant,
        valid=valid,
        results=results,
        can_edit=lambda holder: _can_change(tenant, actor, holder),
        message=_("Another subscription has this external id."),
        read=external_ids_read,
    )
    created = [subscription for _index, subscription in valid]
    with history_actor(actor):
        copy_insert(Subscription, created)
    if recompute and created:
        lifecycle_schedule_recompute(
            tenant_id=tenant.pk, account_ids=sorted({subscription.account_id for subscription in created})
        )
    for index, subscription in valid:
        results[index] = subscription
    return cast(list[Subscription | Exception], results)  # every draft got its subscription or its error


def subscription_snapshot(subscription: Subscription) -> dict[str, Any]:
    """The current values a stale edit shows (and the API returns with 409)."""
    return {
        "plan": subscription.plan,
        "mrr": str(subscription.mrr),
        "currency": subscription.currency,
        "start_date": subscription.start_date.isoformat(),
        "end_date": subscription.end_date.isoformat() if subscription.end_date else None,
        "churn_reason": subscription.churn_reason,
        "version": subscription.version,
    }


def _conflict_message() -> str:
    return _(
        "Someone else changed this subscription since you opened it. Review their changes and save again."
    )


@transaction.atomic
def subscription_update(
    *,
    tenant: Tenant,
    actor: User | None,
    subscription: Subscription,
    version: int | None,
    recompute: bool = True,
    **fields: Any,
) -> Subscription:
    """Change fields if the row still has `version` (None: no check), else ConflictError with the current values.
    Side effects: history event, the account's lifecycle recomputed after commit (unless `recompute=False`)."""
    unknown = set(fields) - set(SUBSCRIPTION_FIELDS)
    if unknown:
        raise ValidationError({name: _("This field cannot be changed.") for name in sorted(unknown)})
    current = (
        Subscription.objects.select_for_update()
        .filter(tenant=tenant, pk=subscription.pk, deleted_at__isnull=True)
        .first()
    )
    if current is None:
        raise Subscription.DoesNotExist
    record_check_version(
        current=current, expected_version=version, snapshot=subscription_snapshot, message=_conflict_message()
    )
    clean = _clean(tenant, fields, current=current, actor=actor)
    real = {name: value for name, value in clean.items() if getattr(current, name) != value}
    if real:
        # The row is locked: the version read above is still the one in the database.
        record_update_versioned(
            queryset=Subscription.objects.filter(tenant=tenant),
            instance=current,
            expected_version=current.version,
            values=real,
            actor=actor,
            snapshot=subscription_snapshot,
            message=_conflict_message(),
            refresh=False,
        )
        if recompute:
            lifecycle_schedule_recompute(tenant_id=tenant.pk, account_ids=[current.account_id])
    current.refresh_from_db()
    return current


@transaction.atomic
def subscriptions_update_many(
    *,
    tenant: Tenant,
    actor: User | None,
    changes: Sequence[tuple[Subscription, dict[str, Any]]],
    recompute: bool = True,
) -> list[Subscription | Exception]:
    """subscription_update (no version check) for many subscriptions at once (an import: a file imported again):
    `changes` are (the subscription, its new values). The same rules for the set: read again and locked in one
    query, a deleted one refused (DoesNotExist), the values cleaned against the row as it is, and one UPDATE of the
    subscriptions that really change (version + 1, a history event each from the database's row trigger, booked to
    the actor); a subscription whose values are all as stored is left as it is. Side effect: one lifecycle
    recompute of the changed subscriptions' accounts after commit (unless `recompute=False`). Returns, in the
    order of `changes`, each subscription as it now is or the error that kept it as it was."""
    results: list[Subscription | Exception | None] = [None] * len(changes)
    fresh = {
        subscription.pk: subscription
        for subscription in Subscription.objects.select_for_update(of=("self",)).filter(
            tenant=tenant,
            pk__in=[subscription.pk for subscription, _values in changes],
            deleted_at__isnull=True,
        )
    }
    written: set[str] = set()
    changed: dict[int, Subscription] = {}
    for index, (subscription, values) in enumerate(changes):
        try:
            unknown = set(values) - set(SUBSCRIPTION_FIELDS)
            if unknown:
                raise ValidationError({name: _("This field cannot be changed.") for name in sorted(unknown)})
            current = fresh.get(subscription.pk)
            if current is None:
                raise Subscription.DoesNotExist
            clean = _clean(tenant, values, current=current, actor=actor)
        except (ValidationError, ObjectDoesNotExist) as exc:
            results[index] = exc
            continue
        real = {name: value for name, value in clean.items() if getattr(current, name) != value}
        if real:
            for name, value in real.items():
                setattr(current, name, value)
            current.version += 1  # as subscription_update's UPDATE does, once per change that changes
            written.update(real)
            changed[current.pk] = current
        results[index] = current
    if changed:
        with history_actor(actor):
            copy_update(Subscription, list(changed.values()), sorted(written | {"version", "updated_at"}))
        if recompute:
            lifecycle_schedule_recompute(
                tenant_id=tenant.pk, account_ids=sorted({s.account_id for s in changed.values()})
            )
    return cast(list[Subscription | Exception], results)  # every change got its subscription or its error


@transaction.atomic
def subscription_delete(*, tenant: Tenant, actor: User | None, subscription: Subscription) -> Subscription:
    """Soft-delete (restorable); a deleted subscription no longer counts for the lifecycle."""
    record_soft_delete(
        queryset=Subscription.objects.filter(tenant=tenant), instance=subscription, actor=actor
    )
    lifecycle_schedule_recompute(tenant_id=tenant.pk, account_ids=[subscription.account_id])
    return subscription


@transaction.atomic
def subscription_restore(*, tenant: Tenant, actor: User | None, subscription: Subscription) -> Subscription:
    record_restore(queryset=Subscription.objects.filter(tenant=tenant), instance=subscription, actor=actor)
    lifecycle_schedule_recompute(tenant_id=tenant.pk, account_ids=[subscription.account_id])
    return subscription
