"""Writes of the records area: accounts, contacts, activities and tasks, exchange rates, merges.

Every write runs in one transaction, stamps the acting user into the django-pghistory context (so the history
shows who), keeps `search_text` current and checks `version` (optimistic locking) on updates.
"""

from __future__ import annotations

import datetime
import json
import re
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any, TypeVar, cast

from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models, transaction
from django.db.models import F
from django.db.models.fields.reverse_related import ForeignObjectRel
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import (
    Account,
    AccountAccess,
    AccountMember,
    Activity,
    ActivityKind,
    Contact,
    ExchangeRate,
    LifecycleStageName,
    MergeEntity,
    MergeRecord,
    Opportunity,
)

# Reads that callers need next to the writes (dedup before create) live in the selectors; re-exported here.
from accounts.selectors.records import account_duplicates, contact_duplicates  # noqa: F401
from accounts.signals import activity_logged, activity_logging
from crm.errors import AppError, ConflictError
from crm.history import history_actor
from crm.models import Membership, MembershipStatus, Tenant, User

CENT = Decimal("0.01")
LEGAL_SUFFIXES = [
    # Longest first, so "股份有限公司" goes before "有限公司".
    "股份有限公司",
    "有限责任公司",
    "集团有限公司",
    "有限公司",
    "集团",
    "公司",
    "corporation",
    "incorporated",
    "limited",
    "company",
    "holding",
    "holdings",
    "gmbh & co. kg",
    "gmbh & co kg",
    "gmbh",
    "corp",
    "inc",
    "llc",
    "ltd",
    "plc",
    "co",
    "ag",
    "kg",
    "se",
    "sa",
    "sas",
    "srl",
    "bv",
    "nv",
    "oy",
    "ab",
]


def _suffix_pattern(suffix: str) -> str:
    """A legal suffix, letting dots and spaces vary ("B.V.", "BV", "Co., Ltd")."""
    parts = [re.escape(ch) for ch in suffix if ch not in ". "]
    return r"[.\s&]*".join(parts)


_SUFFIX_RE = re.compile(
    r"(?:[\s,.]+(?:" + "|".join(_suffix_pattern(s) for s in LEGAL_SUFFIXES if s.isascii()) + r")\.?)+\s*$",
    re.IGNORECASE,
)
ACCOUNT_FIELDS = (
    "external_id",
    "name",
    "domain",
    "industry",
    "size_band",
    "region",
    "tier",
    "owner",
    "parent",
)
CONTACT_FIELDS = ("external_id", "account", "first_name", "last_name", "email", "phone", "title", "owner")
ACTIVITY_FIELDS = (
    "kind",
    "subject",
    "body",
    "owner",
    "occurred_at",
    "due_at",
    "done",
    "lead",
    "account",
    "contact",
    "opportunity",
    "external_id",
)
DONE_BY_DEFAULT = {ActivityKind.CALL, ActivityKind.EMAIL, ActivityKind.MEETING, ActivityKind.NOTE}
SNOOZE_CHOICES = {"1d": datetime.timedelta(days=1), "1w": datetime.timedelta(days=7)}


# --- Normalization ----------------------------------------------------------------------------------------------


def normalize_company_name(name: str) -> str:
    """The core of a company name for duplicate checks: trimmed, single-spaced, legal suffixes dropped
    ("Acme Industrial GmbH" -> "Acme Industrial", "北京华信科技有限公司" -> "北京华信科技")."""
    text = re.sub(r"\s+", " ", (name or "").strip())
    for _round in range(3):
        before = text
        text = _SUFFIX_RE.sub("", text).strip(" ,.")
        for suffix in LEGAL_SUFFIXES:
            if not suffix.isascii() and text.endswith(suffix) and len(text) > len(suffix) + 1:
                text = text[: -len(suffix)].strip()
        if text == before:
            break
    return text or (name or "").strip()


def normalize_domain(domain: str) -> str:
    text = (domain or "").strip().lower()
    text = re.sub(r"^[a-z][a-z0-9+.-]*://", "", text)
    text = text.split("/")[0].split("?")[0].split("#")[0]
    text = text.split("@")[-1]
    if text.startswith("www."):
        text = text[4:]
    return text.strip(".")


def phone_digits(phone: str) -> str:
    return re.sub(r"\D", "", phone or "")


def account_search_text(account: Account) -> str:
    return " ".join(part for part in [account.name.lower(), (account.domain or "").lower()] if part)


def contact_search_text(contact: Contact) -> str:
    parts = [contact.first_name, contact.last_name, contact.email, contact.phone, phone_digits(contact.phone)]
    return " ".join(p.lower() for p in parts if p)


# --- Shared checks ----------------------------------------------------------------------------------------------


def _history(actor: User | None) -> AbstractContextManager[Any]:
    """Stamp the actor into the pghistory context (None: the system, so no earlier actor leaks in)."""
    return history_actor(actor)


def _same_tenant(tenant: Tenant, obj: models.Model | None, field: str) -> None:
    if obj is not None and getattr(obj, "tenant_id", tenant.pk) != tenant.pk:
        raise ValidationError(
            {field: _("Select a valid choice. That choice is not one of the available choices.")}
        )


def _check_member(tenant: Tenant, user: User | None, field: str = "owner") -> None:
    if user is None:
        return
    if not Membership.objects.filter(tenant=tenant, user=user, status=MembershipStatus.ACTIVE).exists():
        raise ValidationError({field: _("The owner must be an active member of this company.")})


def _check_live(obj: models.Model | None, field: str) -> None:
    if obj is not None and getattr(obj, "deleted_at", None) is not None:
        raise ValidationError({field: _("This record was deleted.")})


def _attname(model: type[models.Model], name: str) -> str:
    """The column attribute of a concrete field (`owner` -> `owner_id`). Callers pass only names of concrete
    fields (a *_FIELDS tuple, a unique constraint), never reverse relations, which have no attname."""
    return cast(models.Field, model._meta.get_field(name)).attname


def _unknown_fields(fields: dict, allowed: tuple[str, ...]) -> None:
    unknown = set(fields) - set(allowed)
    if unknown:
        raise ValidationError({name: _("This field cannot be set here.") for name in sorted(unknown)})


def _conflict(obj: Account | Contact, version: int | None, current: dict) -> ConflictError:
    return ConflictError(
        _(
            "This record was changed by someone else since you opened it. Review their changes and save again."
        ),
        your_version=version,
        current_version=obj.version,
        current=current,
    )


# The models with optimistic locking (a `version` column) that _locked_update writes.
_Versioned = TypeVar("_Versioned", Account, Contact)


def _locked_update(
    model: type[_Versioned],
    obj: _Versioned,
    *,
    tenant: Tenant,
    version: int | None,
    values: dict[str, Any],
    snapshot: Callable[[_Versioned], dict[str, Any]],
) -> _Versioned:
    """UPDATE ... WHERE version = v; zero rows means a concurrent change: ConflictError with both versions."""
    qs = model.objects.filter(tenant=tenant, pk=obj.pk)
    if version is not None:
        qs = qs.filter(version=version)
    updated = qs.update(**values, version=F("version") + 1, updated_at=timezone.now())
    if not updated:
        current = model.objects.filter(tenant=tenant, pk=obj.pk).first()
        if current is None:
            raise model.DoesNotExist
        raise _conflict(current, version, snapshot(current))
    obj.refresh_from_db()
    return obj


def account_snapshot(account: Account) -> dict[str, Any]:
    return {
        "id": account.pk,
        "version": account.version,
        "name": account.name,
        "domain": account.domain,
        "industry": account.industry,
        "size_band": account.size_band,
        "region": account.region,
        "tier": account.tier,
        "owner": account.owner_id,
        "parent": account.parent_id,
        "lifecycle_stage": account.lifecycle_stage,
    }


def contact_snapshot(contact: Contact) -> dict[str, Any]:
    return {
        "id": contact.pk,
        "version": contact.version,
        "account": contact.account_id,
        "first_name": contact.first_name,
        "last_name": contact.last_name,
        "email": contact.email,
        "phone": contact.phone,
        "title": contact.title,
        "owner": contact.owner_id,
    }


# --- Accounts ---------------------------------------------------------------------------------------------------


def _clean_account(tenant: Tenant, account: Account, *, check_owner: bool = True) -> None:
    account.name = re.sub(r"\s+", " ", (account.name or "").strip())
    account.domain = normalize_domain(account.domain)
    account.industry = (account.industry or "").strip()
    account.region = (account.region or "").strip()
    account.external_id = (account.external_id or "").strip()
    if not account.name:
        raise ValidationError({"name": _("Enter the company name.")})
    _same_tenant(tenant, account.owner, "owner")
    _same_tenant(tenant, account.parent, "parent")
    _check_live(account.parent, "parent")
    if check_owner:
        _check_member(tenant, account.owner)
    if account.parent_id:
        if account.pk and account.parent_id == account.pk:
            raise ValidationError({"parent": _("An account cannot be its own parent.")})
        # Walk up the chain: a cycle would hide accounts from every hierarchy view.
        seen, current = {account.pk}, account.parent
        while current is not None:
            if current.pk in seen:
                raise ValidationError({"parent": _("This parent would create a loop of parent accounts.")})
            seen.add(current.pk)
            current = current.parent if current.parent_id else None
    if account.external_id:
        clash = Account.objects.filter(tenant=tenant, external_id=account.external_id).exclude(pk=account.pk)
        if clash.exists():
            raise ValidationError({"external_id": _("Another account has this external id.")})
    account.full_clean(exclude=["tenant", "owner", "parent", "merged_into", "search_text"])
    account.search_text = account_search_text(account)


@transaction.atomic
def account_create(*, tenant: Tenant, actor: User | None, **fields: Any) -> Account:
    """Create an account (owner defaults to the actor). Side effects: history event with the actor."""
    _unknown_fields(fields, ACCOUNT_FIELDS + ("created_at", "lifecycle_stage"))
    fields.setdefault("owner", actor)
    account = Account(tenant=tenant, **fields)
    _clean_account(tenant, account)
    with _history(actor):
        account.save()
    return account


@transaction.atomic
def account_update(
    *, tenant: Tenant, actor: User | None, account: Account, version: int | None, **fields: Any
) -> Account:
    """Change an account; `version` is the one the user loaded (None skips the check: internal callers).

    Raises ConflictError (both versions and the current values) when someone saved in between."""
    _unknown_fields(fields, ACCOUNT_FIELDS)
    draft = Account.objects.get(tenant=tenant, pk=account.pk)
    for key, value in fields.items():
        setattr(draft, key, value)
    _clean_account(tenant, draft, check_owner="owner" in fields)
    attnames = [_attname(Account, name) for name in fields]
    values = {attname: getattr(draft, attname) for attname in attnames}
    values["search_text"] = draft.search_text
    with _history(actor):
        return _locked_update(
            Account, account, tenant=tenant, version=version, values=values, snapshot=account_snapshot
        )


@transaction.atomic
def account_delete(*, tenant: Tenant, actor: User | None, account: Account) -> Account:
    """Soft delete; the account disappears from lists and can be restored (Undo)."""
    with _history(actor):
        Account.objects.filter(tenant=tenant, pk=account.pk, deleted_at=None).update(
            deleted_at=timezone.now(), version=F("version") + 1, updated_at=timezone.now()
        )
    account.refresh_from_db()
    return account


@transaction.atomic
def account_restore(*, tenant: Tenant, actor: User | None, account: Account) -> Account:
    if account.merged_into_id:
        raise AppError(_("This account was merged into another one; undo the merge instead."))
    with _history(actor):
        Account.objects.filter(tenant=tenant, pk=account.pk).exclude(deleted_at=None).update(
            deleted_at=None, version=F("version") + 1, updated_at=timezone.now()
        )
    account.refresh_from_db()
    return account


@transaction.atomic
def accounts_set_lifecycle_stages(
    *, tenant: Tenant, stages: Mapping[str, models.QuerySet | list[int]]
) -> int:
    """Set the lifecycle stage of many accounts: for each stage, the ids of its accounts (a list, or a queryset of
    ids that stays in SQL). Only accounts whose stage differs are written, booked to the system ("lifecycle");
    `version` is not bumped (a derived field must not make someone's open edit form stale). The lifecycle app
    calls this; returns the number of accounts changed."""
    unknown = set(stages) - set(LifecycleStageName.values)
    if unknown:
        raise ValueError(f"Unknown lifecycle stages: {sorted(unknown)}")
    changed = 0
    with history_actor(None, reason="lifecycle"):
        for stage, account_ids in stages.items():
            changed += (
                Account.objects.filter(tenant=tenant, pk__in=account_ids)
                .exclude(lifecycle_stage=stage)
                .update(lifecycle_stage=stage)
            )
    return changed


@transaction.atomic
def account_member_set(
    *, tenant: Tenant, actor: User | None, account: Account, user: User, access: str = AccountAccess.EDIT
) -> AccountMember:
    """Add someone to the account team (edit) or share it read-only (read); updates the access if present."""
    _same_tenant(tenant, account, "account")
    _check_member(tenant, user, "user")
    if access not in AccountAccess.values:
        raise ValidationError({"access": _("Unknown access level.")})
    with _history(actor):
        member, _created = AccountMember.objects.update_or_create(
            tenant=tenant, account=account, user=user, defaults={"access": access}
        )
    return member


@transaction.atomic
def account_member_remove(*, tenant: Tenant, actor: User | None, account: Account, user_id: int) -> None:
    with _history(actor):
        AccountMember.objects.filter(tenant=tenant, account=account, user_id=user_id).delete()


# --- Contacts ---------------------------------------------------------------------------------------------------


def _clean_contact(tenant: Tenant, contact: Contact, *, check_owner: bool = True) -> None:
    for name in ("first_name", "last_name", "phone", "title", "external_id"):
        setattr(contact, name, re.sub(r"\s+", " ", (getattr(contact, name) or "").strip()))
    contact.email = (contact.email or "").strip().lower()
    if not (contact.first_name or contact.last_name or contact.email):
        raise ValidationError({"last_name": _("Enter a name or an email address.")})
    _same_tenant(tenant, contact.account, "account")
    _same_tenant(tenant, contact.owner, "owner")
    _check_live(contact.account, "account")
    if check_owner:
        _check_member(tenant, contact.owner)
    if contact.external_id:
        clash = Contact.objects.filter(tenant=tenant, external_id=contact.external_id).exclude(pk=contact.pk)
        if clash.exists():
            raise ValidationError({"external_id": _("Another contact has this external id.")})
    contact.full_clean(exclude=["tenant", "owner", "account", "merged_into", "search_text"])
    contact.search_text = contact_search_text(contact)


@transaction.atomic
def contact_create(*, tenant: Tenant, actor: User | None, **fields: Any) -> Contact:
    """Create a contact (owner defaults to the account's owner, else the actor)."""
    _unknown_fields(fields, CONTACT_FIELDS + ("created_at",))
    if "owner" not in fields:
        account = fields.get("account")
        fields["owner"] = account.owner if account is not None and account.owner_id else actor
    contact = Contact(tenant=tenant, **fields)
    _clean_contact(tenant, contact)
    with _history(actor):
        contact.save()
    return contact


@transaction.atomic
def contact_update(
    *, tenant: Tenant, actor: User | None, contact: Contact, version: int | None, **fields: Any
) -> Contact:
    _unknown_fields(fields, CONTACT_FIELDS)
    draft = Contact.objects.get(tenant=tenant, pk=contact.pk)
    for key, value in fields.items():
        setattr(draft, key, value)
    _clean_contact(tenant, draft, check_owner="owner" in fields)
    attnames = [_attname(Contact, name) for name in fields]
    values = {attname: getattr(draft, attname) for attname in attnames}
    values["search_text"] = draft.search_text
    with _history(actor):
        return _locked_update(
            Contact, contact, tenant=tenant, version=version, values=values, snapshot=contact_snapshot
        )


@transaction.atomic
def contact_delete(*, tenant: Tenant, actor: User | None, contact: Contact) -> Contact:
    with _history(actor):
        Contact.objects.filter(tenant=tenant, pk=contact.pk, deleted_at=None).update(
            deleted_at=timezone.now(), version=F("version") + 1, updated_at=timezone.now()
        )
    contact.refresh_from_db()
    return contact


@transaction.atomic
def contact_restore(*, tenant: Tenant, actor: User | None, contact: Contact) -> Contact:
    if contact.merged_into_id:
        raise AppError(_("This contact was merged into another one; undo the merge instead."))
    with _history(actor):
        Contact.objects.filter(tenant=tenant, pk=contact.pk).exclude(deleted_at=None).update(
            deleted_at=None, version=F("version") + 1, updated_at=timezone.now()
        )
    contact.refresh_from_db()
    return contact


# --- Activities -------------------------------------------------------------------------------------------------


def _notify_lead(tenant: Tenant, lead: Any, at: datetime.datetime | None, *, kind: str, done: bool) -> None:
    """Tell the leads app an activity was logged on a lead (accounts.signals.activity_logged): done calls, emails
    and meetings move its pool clock and new -> working; any done activity rescores it."""
    activity_logged.send(sender=Activity, tenant=tenant, lead=lead, at=at, kind=kind, done=done)


def _check_lead_writable(tenant: Tenant, actor: User | None, lead: Any) -> None:
    """Logging on a lead needs edit rights on it, by the leads app's rule: its receiver of
    accounts.signals.activity_logging raises PermissionDenied. With no receiver nobody could enforce the rule,
    so the write is refused (fail closed)."""
    if not activity_logging.has_listeners(Activity):
        raise ImproperlyConfigured(
            "No receiver checks activity_logging: the leads app connects it in ready()."
        )
    activity_logging.send(sender=Activity, tenant=tenant, actor=actor, lead=lead)


def _clean_activity(tenant: Tenant, activity: Activity) -> None:
    activity.subject = re.sub(r"\s+", " ", (activity.subject or "").strip())
    if activity.kind not in ActivityKind.values:
        raise ValidationError({"kind": _("Choose call, email, meeting, note or task.")})
    if not activity.subject:
        activity.subject = str(ActivityKind(activity.kind).label)
    for name in ("owner", "lead", "account", "contact", "opportunity"):
        obj = getattr(activity, name)
        _same_tenant(tenant, obj, name)
        if name != "owner":
            _check_live(obj, name)
    _check_member(tenant, activity.owner)
    # A call on a deal or a contact also belongs to their account's timeline.
    if activity.account_id is None:
        if activity.opportunity is not None:
            activity.account_id = activity.opportunity.account_id
        elif activity.contact is not None and activity.contact.account_id:
            activity.account_id = activity.contact.account_id
    activity.full_clean(exclude=["tenant", "owner", "lead", "account", "contact", "opportunity"])


@transaction.atomic
def activity_log(
    *,
    tenant: Tenant,
    actor: User | None,
    kind: str,
    subject: str,
    body: str = "",
    owner: User | None = None,
    lead: Any = None,
    account: Account | None = None,
    contact: Contact | None = None,
    opportunity: Opportunity | None = None,
    occurred_at: datetime.datetime | None = None,
    due_at: datetime.datetime | None = None,
    done: bool | None = None,
    external_id: str = "",
) -> Activity:
    """Log a call, email, meeting or note (done, at `occurred_at`, default now) or open a task (not done).

    The account is filled from the deal or contact when not given. Side effects: the lead's activity clock
    (accounts.signals.activity_logged) when a lead is linked; history event with the actor.
    Logging on a lead needs edit rights on it: PermissionDenied for read-only roles and unclaimed pool leads."""
    if done is None:
        done = kind in DONE_BY_DEFAULT
    now = timezone.now()
    if done and occurred_at is None:
        occurred_at = now
    activity = Activity(
        tenant=tenant,
        kind=kind,
        subject=subject,
        body=body or "",
        owner=owner if owner is not None else actor,
        lead=lead,
        account=account,
        contact=contact,
        opportunity=opportunity,
        occurred_at=occurred_at,
        due_at=due_at,
        done=done,
        external_id=external_id or "",
    )
    _clean_activity(tenant, activity)
    if lead is not None:
        _check_lead_writable(tenant, actor, lead)
    with _history(actor):
        activity.save()
    if lead is not None:
        _notify_lead(tenant, lead, occurred_at, kind=activity.kind, done=activity.done)
    return activity


@transaction.atomic
def activity_update(*, tenant: Tenant, actor: User | None, activity: Activity, **fields: Any) -> Activity:
    _unknown_fields(fields, ACTIVITY_FIELDS)
    for key, value in fields.items():
        setattr(activity, key, value)
    if activity.done and activity.occurred_at is None:
        activity.occurred_at = timezone.now()
    _clean_activity(tenant, activity)
    with _history(actor):
        activity.save()
    return activity


@transaction.atomic
def activity_complete(
    *, tenant: Tenant, actor: User | None, activity: Activity, at: datetime.datetime | None = None
) -> Activity:
    """Mark a task done (it now counts as an activity at `at`, default now)."""
    if activity.done:
        return activity
    at = at or timezone.now()
    with _history(actor):
        Activity.objects.filter(tenant=tenant, pk=activity.pk).update(
            done=True, occurred_at=at, updated_at=at
        )
    activity.refresh_from_db()
    if activity.lead_id:
        _notify_lead(tenant, activity.lead, at, kind=activity.kind, done=True)
    return activity


@transaction.atomic
def activity_reopen(*, tenant: Tenant, actor: User | None, activity: Activity) -> Activity:
    with _history(actor):
        Activity.objects.filter(tenant=tenant, pk=activity.pk).update(
            done=False, occurred_at=None, updated_at=timezone.now()
        )
    activity.refresh_from_db()
    return activity


@transaction.atomic
def activity_snooze(
    *, tenant: Tenant, actor: User | None, activity: Activity, delta: datetime.timedelta | str
) -> Activity:
    """Push an open task's due date by `delta` ("1d", "1w" or a timedelta), counted from now when overdue."""
    if isinstance(delta, str):
        if delta not in SNOOZE_CHOICES:
            raise ValidationError({"delta": _("Snooze by one day (1d) or one week (1w).")})
        delta = SNOOZE_CHOICES[delta]
    if activity.done:
        raise AppError(_("This task is already done."))
    now = timezone.now()
    base = max(activity.due_at or now, now)
    with _history(actor):
        Activity.objects.filter(tenant=tenant, pk=activity.pk).update(due_at=base + delta, updated_at=now)
    activity.refresh_from_db()
    return activity


@transaction.atomic
def activity_delete(*, tenant: Tenant, actor: User | None, activity: Activity) -> Activity:
    with _history(actor):
        Activity.objects.filter(tenant=tenant, pk=activity.pk).update(
            deleted_at=timezone.now(), updated_at=timezone.now()
        )
    activity.refresh_from_db()
    return activity


@transaction.atomic
def activity_restore(*, tenant: Tenant, actor: User | None, activity: Activity) -> Activity:
    with _history(actor):
        Activity.objects.filter(tenant=tenant, pk=activity.pk).update(
            deleted_at=None, updated_at=timezone.now()
        )
    activity.refresh_from_db()
    return activity


# --- Money ------------------------------------------------------------------------------------------------------


def _tenant_today(tenant: Tenant) -> datetime.date:
    return timezone.localtime(timezone.now(), tenant.tzinfo).date()


def _pick_rate(rates: list[tuple[datetime.date, Decimal]], on_date: datetime.date) -> Decimal | None:
    """rates sorted by valid_from ascending: the latest valid on `on_date`, else the earliest one."""
    if not rates:
        return None
    chosen = None
    for valid_from, rate in rates:
        if valid_from <= on_date:
            chosen = rate
        else:
            break
    return chosen if chosen is not None else rates[0][1]


def _no_rate(tenant: Tenant, currency: str) -> AppError:
    return AppError(
        _("No exchange rate for %(currency)s to %(reporting)s: an admin adds one under Exchange rates.")
        % {"currency": currency, "reporting": tenant.currency}
    )


def to_reporting(
    *, tenant: Tenant, amount: Decimal | int | float | str, currency: str, on_date: datetime.date | None
) -> Decimal:
    """`amount` of `currency` in the tenant's reporting currency, rounded to cents.

    Rate: the latest ExchangeRate with valid_from <= on_date for the currency, else the earliest one; the
    reporting currency itself converts 1:1; no rate at all raises AppError. `on_date` None means today."""
    amount = Decimal(str(amount))
    currency = (currency or tenant.currency).upper()
    if currency == tenant.currency.upper():
        return amount.quantize(CENT, rounding=ROUND_HALF_UP)
    on_date = on_date or _tenant_today(tenant)
    if isinstance(on_date, datetime.datetime):
        on_date = timezone.localtime(on_date, tenant.tzinfo).date()
    base = ExchangeRate.objects.filter(tenant=tenant, currency=currency)
    rate = base.filter(valid_from__lte=on_date).order_by("-valid_from").values_list("rate", flat=True).first()
    if rate is None:
        rate = base.order_by("valid_from").values_list("rate", flat=True).first()
    if rate is None:
        raise _no_rate(tenant, currency)
    return (amount * rate).quantize(CENT, rounding=ROUND_HALF_UP)


def reporting_converter(*, tenant: Tenant) -> Callable[..., Decimal]:
    """A to_reporting() with the tenant's whole rate table loaded once (one query), for bulk work:
    `convert(amount, currency, on_date)`."""
    table: dict[str, list[tuple[datetime.date, Decimal]]] = {}
    for currency, valid_from, rate in (
        ExchangeRate.objects.filter(tenant=tenant)
        .order_by("currency", "valid_from")
        .values_list("currency", "valid_from", "rate")
    ):
        table.setdefault(currency, []).append((valid_from, rate))
    reporting = tenant.currency.upper()
    today = _tenant_today(tenant)

    def convert(amount: Any, currency: str, on_date: datetime.date | None = None) -> Decimal:
        value = Decimal(str(amount))
        code = (currency or reporting).upper()
        if code == reporting:
            return value.quantize(CENT, rounding=ROUND_HALF_UP)
        rate = _pick_rate(table.get(code, []), on_date or today)
        if rate is None:
            raise _no_rate(tenant, code)
        return (value * rate).quantize(CENT, rounding=ROUND_HALF_UP)

    return convert


def _clean_rate(tenant: Tenant, rate: ExchangeRate) -> None:
    rate.currency = (rate.currency or "").strip().upper()
    if not re.fullmatch(r"[A-Z]{3}", rate.currency):
        raise ValidationError({"currency": _("Use a three-letter ISO 4217 code such as USD.")})
    if rate.currency == tenant.currency.upper():
        raise ValidationError({"currency": _("The reporting currency converts 1:1; it needs no rate.")})
    try:
        value = Decimal(str(rate.rate))
    except (InvalidOperation, TypeError) as exc:
        raise ValidationError({"rate": _("Enter a number.")}) from exc
    if value <= 0:
        raise ValidationError({"rate": _("The rate must be greater than zero.")})
    clash = ExchangeRate.objects.filter(tenant=tenant, currency=rate.currency, valid_from=rate.valid_from)
    if clash.exclude(pk=rate.pk).exists():
        raise ValidationError({"valid_from": _("There is already a rate for this currency from this date.")})
    rate.full_clean(exclude=["tenant"])


def _reprice(tenant: Tenant, currencies: set[str]) -> None:
    """Deals keep amount_reporting; after a rate change the deals area reprices (a task, after commit)."""
    from accounts.tasks import opportunities_reprice_task

    for currency in sorted(currencies):
        opportunities_reprice_task.delay_on_commit(tenant.pk, currency)


@transaction.atomic
def exchange_rate_create(
    *, tenant: Tenant, actor: User | None, currency: str, valid_from: datetime.date, rate: Decimal
) -> ExchangeRate:
    """Add a rate (1 unit of `currency` = `rate` reporting units from `valid_from`). Side effect: reprice."""
    obj = ExchangeRate(tenant=tenant, currency=currency, valid_from=valid_from, rate=rate)
    _clean_rate(tenant, obj)
    obj.save()
    _reprice(tenant, {obj.currency})
    return obj


@transaction.atomic
def exchange_rate_update(
    *, tenant: Tenant, actor: User | None, exchange_rate: ExchangeRate, **fields: Any
) -> ExchangeRate:
    _unknown_fields(fields, ("currency", "valid_from", "rate"))
    old_currency = exchange_rate.currency
    for key, value in fields.items():
        setattr(exchange_rate, key, value)
    _clean_rate(tenant, exchange_rate)
    exchange_rate.save()
    _reprice(tenant, {old_currency, exchange_rate.currency})
    return exchange_rate


@transaction.atomic
def exchange_rate_delete(*, tenant: Tenant, actor: User | None, exchange_rate: ExchangeRate) -> None:
    currency = exchange_rate.currency
    ExchangeRate.objects.filter(tenant=tenant, pk=exchange_rate.pk).delete()
    _reprice(tenant, {currency})


# --- Merges -----------------------------------------------------------------------------------------------------

# The models that merge (and merge_undo) handle, with what each keeps of the pair.
Mergeable = Account | Contact
MERGE_FIELDS: dict[type[Mergeable], tuple[str, ...]] = {
    Account: ("name", "domain", "industry", "size_band", "region", "tier", "owner", "parent"),
    Contact: ("first_name", "last_name", "email", "phone", "title", "account", "owner"),
}
MERGE_ENTITY: dict[type[Mergeable], str] = {Account: MergeEntity.ACCOUNT, Contact: MergeEntity.CONTACT}
MERGE_MODEL: dict[str, type[Mergeable]] = {MergeEntity.ACCOUNT: Account, MergeEntity.CONTACT: Contact}


def _jsonable(data: Any) -> Any:
    return json.loads(json.dumps(data, cls=DjangoJSONEncoder))


def _row_values(obj: models.Model) -> dict[str, Any]:
    return {f.attname: getattr(obj, f.attname) for f in obj._meta.concrete_fields}


def _from_json(model: type[models.Model], values: dict[str, Any]) -> dict[str, Any]:
    fields = {f.attname: f for f in model._meta.concrete_fields}
    return {
        name: (fields[name].to_python(v) if v is not None else None)
        for name, v in values.items()
        if name in fields
    }


def _is_history_model(model: type[models.Model]) -> bool:
    from pghistory.models import Event

    return issubclass(model, Event)


def _incoming_relations(model: type[models.Model]) -> list[ForeignObjectRel]:
    """Every foreign key pointing at `model` from a live table (history snapshots are never rewritten; the
    self-reference `merged_into` stays with the record that was merged)."""
    relations = []
    for rel in model._meta.get_fields(include_hidden=True):
        # Reverse one-to-many/one-to-one relations are the auto-created, non-concrete ForeignObjectRels.
        if not isinstance(rel, ForeignObjectRel):
            continue
        if not (rel.auto_created and not rel.concrete and (rel.one_to_many or rel.one_to_one)):
            continue
        related = rel.related_model
        if _is_history_model(related) or related._meta.proxy or not related._meta.managed:
            continue
        if related is model and rel.field.name == "merged_into":
            continue
        if related is MergeRecord:
            continue
        relations.append(rel)
    return relations


def _unique_groups(model: type[models.Model], field_name: str) -> list[tuple[str, ...]]:
    groups = [tuple(g) for g in model._meta.unique_together if field_name in g]
    for constraint in model._meta.constraints:
        if isinstance(constraint, models.UniqueConstraint) and constraint.condition is None:
            if field_name in (constraint.fields or ()):
                groups.append(tuple(constraint.fields))
    return groups


def _rel_queryset(related: type[models.Model], tenant: Tenant) -> models.QuerySet:
    qs = related._default_manager.all()
    if any(f.name == "tenant" for f in related._meta.concrete_fields):
        qs = qs.filter(tenant_id=tenant.pk)
    return qs


def _move_relations(
    *, tenant: Tenant, model: type[models.Model], survivor: models.Model, merged: models.Model
) -> tuple[dict, list]:
    """Point every row that references `merged` at `survivor`. Rows that would break a unique constraint
    (the survivor already has that contact role or team member) are deleted and kept for the undo."""
    moved: dict[str, list] = {}
    removed: list[dict] = []
    for rel in _incoming_relations(model):
        related, fk = rel.related_model, rel.field
        qs = _rel_queryset(related, tenant).filter(**{fk.attname: merged.pk})
        if related is model:
            qs = qs.exclude(pk=survivor.pk)
        groups = _unique_groups(related, fk.name)
        if groups:
            for row in list(qs):
                for group in groups:
                    others = {
                        _attname(related, n): getattr(row, _attname(related, n))
                        for n in group
                        if n != fk.name
                    }
                    if _rel_queryset(related, tenant).filter(**others, **{fk.attname: survivor.pk}).exists():
                        removed.append({"model": related._meta.label, "values": _row_values(row)})
                        _rel_queryset(related, tenant).filter(pk=row.pk).delete()
                        break
        ids = list(qs.values_list("pk", flat=True))
        if ids:
            _rel_queryset(related, tenant).filter(pk__in=ids).update(**{fk.attname: survivor.pk})
            moved[f"{related._meta.label}.{fk.attname}"] = ids
    return moved, removed


def _merge_values(
    model: type[Mergeable], survivor: models.Model, merged: models.Model, choices: dict
) -> dict:
    values = {}
    for name in MERGE_FIELDS[model]:
        pick = choices.get(name, "survivor")
        if pick not in ("survivor", "merged"):
            raise ValidationError({name: _("Pick the value of the survivor or of the merged record.")})
        attname = _attname(model, name)
        source = merged if pick == "merged" else survivor
        values[attname] = getattr(source, attname)
        # Keep data: an empty survivor field takes the merged record's value unless told otherwise.
        if pick == "survivor" and name not in choices and values[attname] in (None, ""):
            values[attname] = getattr(merged, attname)
    return values


@transaction.atomic
def _merge(
    *,
    tenant: Tenant,
    actor: User | None,
    model: type[Mergeable],
    survivor: Any,
    merged: Any,
    choices: dict,
) -> MergeRecord:
    survivor = model.objects.select_for_update().get(tenant=tenant, pk=survivor.pk)
    merged = model.objects.select_for_update().get(tenant=tenant, pk=merged.pk)
    if survivor.pk == merged.pk:
        raise ValidationError(_("Choose two different records to merge."))
    if survivor.deleted_at is not None or merged.deleted_at is not None:
        raise AppError(_("Both records must be live (not deleted) to merge them."))
    values = _merge_values(model, survivor, merged, choices or {})
    if model is Account and values.get("parent_id") in (survivor.pk, merged.pk):
        values["parent_id"] = None  # the pair cannot be its own parent
    survivor_before = _row_values(survivor)
    merged_before = _row_values(merged)
    with _history(actor):
        moved, removed = _move_relations(tenant=tenant, model=model, survivor=survivor, merged=merged)
        merged_updates: dict[str, Any] = {
            "deleted_at": timezone.now(),
            "merged_into_id": survivor.pk,
            "version": F("version") + 1,
            "updated_at": timezone.now(),
        }
        if not survivor.external_id and merged.external_id:
            merged_updates["external_id"] = ""
            values["external_id"] = merged.external_id
        model.objects.filter(tenant=tenant, pk=merged.pk).update(**merged_updates)
        draft = model.objects.get(tenant=tenant, pk=survivor.pk)
        for attname, value in values.items():
            setattr(draft, attname, value)
        if model is Account:
            _clean_account(tenant, draft, check_owner=False)
        else:
            _clean_contact(tenant, draft, check_owner=False)
        values["search_text"] = draft.search_text
        values.update({k: getattr(draft, k) for k in values if k in {"name", "domain", "email"}})
        model.objects.filter(tenant=tenant, pk=survivor.pk).update(
            **values, version=F("version") + 1, updated_at=timezone.now()
        )
    survivor.refresh_from_db()
    record = MergeRecord.objects.create(
        tenant=tenant,
        entity=MERGE_ENTITY[model],
        survivor_id=survivor.pk,
        merged_id=merged.pk,
        actor=actor,
        snapshot=_jsonable(
            {
                "survivor_before": survivor_before,
                "survivor_after": _row_values(survivor),
                "merged_before": merged_before,
                "moved": moved,
                "removed": removed,
                "choices": choices or {},
            }
        ),
    )
    return record


def account_merge(
    *, tenant: Tenant, actor: User | None, survivor: Account, merged: Account, choices: dict | None = None
) -> MergeRecord:
    """Merge `merged` into `survivor`: pick each field's value (choices: field -> "survivor" | "merged"),
    move every contact, deal, activity, child account and team member to the survivor, soft-delete the merged
    account with merged_into set, and keep a MergeRecord holding what `merge_undo` needs."""
    return _merge(
        tenant=tenant, actor=actor, model=Account, survivor=survivor, merged=merged, choices=choices or {}
    )


def contact_merge(
    *, tenant: Tenant, actor: User | None, survivor: Contact, merged: Contact, choices: dict | None = None
) -> MergeRecord:
    """Merge two contacts the same way as accounts (activities, deal roles, conversions move over)."""
    return _merge(
        tenant=tenant, actor=actor, model=Contact, survivor=survivor, merged=merged, choices=choices or {}
    )


@transaction.atomic
def merge_undo(*, tenant: Tenant, actor: User | None, merge_record: MergeRecord) -> MergeRecord:
    """Undo a merge exactly: moved rows go back, deleted duplicates come back with their ids, the merged record
    is live again and the survivor's fields the merge changed get their old values (fields edited since the
    merge keep the newer value)."""
    record = MergeRecord.objects.select_for_update().get(tenant=tenant, pk=merge_record.pk)
    if record.undone_at is not None:
        raise AppError(_("This merge was already undone."))
    model = MERGE_MODEL.get(record.entity)
    if model is None:
        raise AppError(_("This kind of merge cannot be undone here."))
    snapshot = record.snapshot
    merged = model.objects.filter(tenant=tenant, pk=record.merged_id).first()
    survivor = model.objects.filter(tenant=tenant, pk=record.survivor_id).first()
    if merged is None or survivor is None:
        raise AppError(_("A record of this merge no longer exists; it cannot be undone."))
    with _history(actor):
        for key, ids in snapshot.get("moved", {}).items():
            label, attname = key.rsplit(".", 1)
            related = _model_by_label(label)
            _rel_queryset(related, tenant).filter(pk__in=ids, **{attname: survivor.pk}).update(
                **{attname: merged.pk}
            )
        for row in snapshot.get("removed", []):
            related = _model_by_label(row["model"])
            values = _from_json(related, row["values"])
            related._default_manager.create(**values)
        # The survivor first: it may hold the external id that goes back to the merged record.
        survivor_before = _from_json(model, snapshot["survivor_before"])
        survivor_after = _from_json(model, snapshot["survivor_after"])
        restore = {}
        for attname, old in survivor_before.items():
            if attname in {"id", "tenant_id", "version", "updated_at", "created_at"}:
                continue
            if survivor_after.get(attname) != old and getattr(survivor, attname) == survivor_after.get(
                attname
            ):
                restore[attname] = old
        if restore:
            model.objects.filter(tenant=tenant, pk=survivor.pk).update(
                **restore, version=F("version") + 1, updated_at=timezone.now()
            )
        before = _from_json(model, snapshot["merged_before"])
        model.objects.filter(tenant=tenant, pk=merged.pk).update(
            deleted_at=before.get("deleted_at"),
            merged_into_id=before.get("merged_into_id"),
            external_id=before.get("external_id", ""),
            version=F("version") + 1,
            updated_at=timezone.now(),
        )
    record.undone_at = timezone.now()
    record.save(update_fields=["undone_at", "updated_at"])
    return record


def _model_by_label(label: str) -> type[models.Model]:
    from django.apps import apps

    return apps.get_model(label)
