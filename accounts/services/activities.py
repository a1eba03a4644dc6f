"""Writes of activities and tasks: log, update, complete, reopen, snooze, delete and restore, and the activity
writes the leads app asks for (notes on leads, moving a converted lead's activities to its account)."""

from __future__ import annotations

import datetime
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, cast

from django.core.exceptions import ImproperlyConfigured, PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import (
    MAX_CALL_MINUTES,
    Account,
    Activity,
    ActivityKind,
    CallOutcome,
    Contact,
    Opportunity,
)
from accounts.services.common import (
    _check_live,
    _check_member,
    _history,
    _members_of,
    _not_member,
    _once,
    _owners_checked,
    _prefetch_unchanged,
    _same_tenant,
    _unknown_fields,
    activity_can_edit,
    check_external_id_free,
    check_owner_assignable,
)
from accounts.signals import (
    activities_logged_many,
    activities_logging_many,
    activities_updated_many,
    activity_changed,
    activity_logged,
    activity_logging,
)
from crm.bulk import Maker, SetCleaner, copy_insert, copy_update
from crm.errors import AppError
from crm.models import Membership, MembershipStatus, Tenant, User
from crm.records import actor_membership, record_restore, record_soft_delete, without_external_id_clashes

ACTIVITY_FIELDS = (
    "kind",
    "subject",
    "body",
    "owner",
    "occurred_at",
    "due_at",
    "done",
    "outcome",
    "duration_minutes",
    "lead",
    "account",
    "contact",
    "opportunity",
    "external_id",
)


DONE_BY_DEFAULT = {ActivityKind.CALL, ActivityKind.EMAIL, ActivityKind.MEETING, ActivityKind.NOTE}


SNOOZE_CHOICES = {"1d": datetime.timedelta(days=1), "1w": datetime.timedelta(days=7)}


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


def _leads_refused(tenant: Tenant, actor: User | None, leads: dict[Any, Any]) -> dict[Any, Exception]:
    """_check_lead_writable for a set's leads at once (accounts.signals.activities_logging_many): the leads refused,
    by id, with the reason. Fails closed like it."""
    if not activities_logging_many.has_listeners(Activity):
        raise ImproperlyConfigured(
            "No receiver checks activities_logging_many: the leads app connects it in ready()."
        )
    refused: dict[Any, Exception] = {}
    for _receiver, answer in activities_logging_many.send(
        sender=Activity, tenant=tenant, actor=actor, leads=list(leads.values())
    ):
        refused.update(cast(dict[Any, Exception], answer or {}))
    return refused


def _check_call_details(kind: str, outcome: str | None, duration_minutes: int | None) -> None:
    """An outcome and a duration are given on calls only; the duration is whole minutes, 0 to 24 hours."""
    errors: dict[str, str] = {}
    if kind != ActivityKind.CALL:
        if outcome:
            errors["outcome"] = _("Only a call has an outcome.")
        if duration_minutes is not None:
            errors["duration_minutes"] = _("Only a call has a duration.")
    else:
        if outcome and outcome not in CallOutcome.values:
            errors["outcome"] = _("Choose connected, no answer, left voicemail or wrong number.")
        if duration_minutes is not None and not 0 <= duration_minutes <= MAX_CALL_MINUTES:
            errors["duration_minutes"] = _("Enter a duration from 0 to 1440 minutes.")
    if errors:
        raise ValidationError(errors)


def _check_activity_external_id(tenant: Tenant, actor: User | None, activity: Activity) -> None:
    check_external_id_free(
        tenant=tenant,
        actor=actor,
        obj=activity,
        can_edit=activity_can_edit,
        message=_("Another activity has this external id."),
    )


# What an activity's full_clean leaves to the services: its relations (checked against the tenant here).
CLEAN_EXCLUDE = ("tenant", "owner", "lead", "account", "contact", "opportunity")
_KINDS = frozenset(ActivityKind.values)
_RELATIONS = ("owner", "lead", "account", "contact", "opportunity")
# (name, its field) of each relation: one that holds no id and no instance is not read (its descriptor would look
# for an instance to cache for each activity, which is most of an import's cleaning time when most are empty).
_RELATION_FIELDS = tuple((name, Activity._meta.get_field(name)) for name in _RELATIONS)
_LEAD_FIELD = Activity._meta.get_field("lead")


def _linked(activity: Activity, field: Any) -> bool:
    return getattr(activity, field.attname) is not None or field.is_cached(activity)


def _clean_activity(
    tenant: Tenant, activity: Activity, *, one: bool = True, cleaner: SetCleaner | None = None
) -> None:
    """The rules every activity meets. `one=False` (activities_log_many) leaves out what asks the database for
    each activity: the owner's membership (the caller checks each owner once) and full_clean's unique and
    constraint checks (the database refuses the set, and its rows are then logged one by one); its `cleaner`
    (crm.bulk.SetCleaner over CLEAN_EXCLUDE) does full_clean's field checks once per distinct value."""
    # Trimmed and single-spaced (str.split splits where the regex \s+ matches).
    activity.subject = " ".join((activity.subject or "").split())
    if activity.kind not in _KINDS:
        raise ValidationError({"kind": _("Choose call, email, meeting, note or task.")})
    if activity.kind != ActivityKind.CALL:
        # A call turned into a note or a task keeps no call details.
        activity.outcome = ""
        activity.duration_minutes = None
    activity.outcome = activity.outcome or ""
    if not activity.subject:
        activity.subject = str(ActivityKind(activity.kind).label)
    linked = [(name, field) for name, field in _RELATION_FIELDS if _linked(activity, field)]
    for name, _field in linked:
        obj = getattr(activity, name)
        _same_tenant(tenant, obj, name)
        if name != "owner":
            _check_live(obj, name)
    if one:
        _check_member(tenant, activity.owner)
    # A call on a deal or a contact also belongs to their account's timeline.
    if activity.account_id is None:
        names = {name for name, _field in linked}
        if "opportunity" in names and activity.opportunity is not None:
            activity.account_id = activity.opportunity.account_id
        elif "contact" in names and activity.contact is not None and activity.contact.account_id:
            activity.account_id = activity.contact.account_id
    if cleaner is not None and not one:
        cleaner.clean(activity)
    else:
        activity.full_clean(exclude=list(CLEAN_EXCLUDE), validate_unique=one, validate_constraints=one)


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
    outcome: str = "",
    duration_minutes: int | None = None,
) -> Activity:
    """Log a call, email, meeting or note (done, at `occurred_at`, default now) or open a task (not done).
    A call may carry its outcome and duration in minutes (ValidationError on any other kind).

    The account is filled from the deal or contact when not given. Side effects: the lead's activity clock
    (accounts.signals.activity_logged) when a lead is linked; history event with the actor.
    Logging on a lead needs edit rights on it: PermissionDenied for read-only roles and unclaimed pool leads."""
    _check_call_details(kind, outcome, duration_minutes)
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
        outcome=outcome or "",
        duration_minutes=duration_minutes,
    )
    _clean_activity(tenant, activity)
    _check_activity_external_id(tenant, actor, activity)
    if owner is not None and owner != actor:
        check_owner_assignable(tenant=tenant, actor=actor, owner_id=owner.pk)
    if lead is not None:
        _check_lead_writable(tenant, actor, lead)
    with _history(actor):
        activity.save()
    if lead is not None:
        _notify_lead(tenant, lead, occurred_at, kind=activity.kind, done=activity.done)
    return activity


@dataclass
class ActivityDraft:
    """One activity for activities_log_many: activity_log's arguments."""

    kind: str
    subject: str
    owner: User | None = None
    fields: dict[str, Any] = field(default_factory=dict)


@transaction.atomic
def activities_log_many(
    *, tenant: Tenant, actor: User | None, drafts: Sequence[ActivityDraft], external_ids_read: bool = False
) -> list[Activity | Exception]:
    """activity_log for many activities at once (imports): the same rules, the owners' memberships in one query,
    each owner choice checked once, the edit right on every lead of the set asked for in one signal
    (accounts.signals.activities_logging_many), one query for the external ids, one INSERT (history events from
    the database's statement trigger, booked to the actor), then the leads told once for the whole set
    (accounts.signals.activities_logged_many: their activity clocks and scores). Returns, in the order of
    `drafts`, each logged activity or the error that kept it out. A constraint only the database checks raises
    for the whole set (the caller logs them one by one to find the culprit). `external_ids_read`: the caller read,
    in this transaction, every activity that holds the drafts' external ids and passes only free ones (an import
    chunk's lookups), so they are not read again; a writer racing in between fails the INSERT on the unique
    constraint."""
    now = timezone.now()
    cleaner = SetCleaner(Activity, CLEAN_EXCLUDE)
    make_activity = Maker(Activity, now=now)
    results: list[Activity | Exception | None] = [None] * len(drafts)
    owners = [draft.owner if draft.owner is not None else actor for draft in drafts]
    owner_ids = {owner.pk for owner in owners if owner is not None}
    members = _members_of(tenant, owner_ids) if owner_ids else set()
    choices: dict[Any, Exception | None] = {}
    leads: dict[
        Any, Any
    ] = {}  # each lead the set logs on, by id (its edit right: checked for the set at once)
    valid: list[tuple[int, Activity]] = []
    for index, draft in enumerate(drafts):
        try:
            _unknown_fields(draft.fields, ACTIVITY_FIELDS)
            values = dict(draft.fields)
            _check_call_details(draft.kind, values.get("outcome"), values.get("duration_minutes"))
            if values.get("done") is None:
                values["done"] = draft.kind in DONE_BY_DEFAULT
            if values["done"] and values.get("occurred_at") is None:
                values["occurred_at"] = now
            owner = owners[index]
            activity = make_activity(
                tenant=tenant, kind=draft.kind, subject=draft.subject, owner=owner, **values
            )
            activity.body = activity.body or ""
            activity.outcome = activity.outcome or ""
            _clean_activity(tenant, activity, one=False, cleaner=cleaner)
            if owner is not None and owner.pk not in members:
                raise _not_member()
            if draft.owner is not None and draft.owner != actor:
                _once(
                    choices,
                    draft.owner.pk,
                    lambda owner=draft.owner: check_owner_assignable(
                        tenant=tenant, actor=actor, owner_id=owner.pk
                    ),
                )
            if _linked(activity, _LEAD_FIELD) and activity.lead is not None:
                leads[activity.lead_id] = activity.lead
        except (ValidationError, PermissionDenied, AppError) as exc:
            results[index] = exc
            continue
        valid.append((index, activity))
    if leads:
        refused = _leads_refused(tenant, actor, leads)
        if refused:
            for index, activity in valid:
                if activity.lead_id in refused:
                    results[index] = refused[activity.lead_id]
            valid = [(index, activity) for index, activity in valid if results[index] is None]
    valid = without_external_id_clashes(
        model=Activity,
        tenant=tenant,
        valid=valid,
        results=results,
        can_edit=lambda holder: _actor_may_edit(tenant, actor, holder),
        message=_("Another activity has this external id."),
        read=external_ids_read,
    )
    activities = [activity for _index, activity in valid]
    with _history(actor):
        copy_insert(Activity, activities)
    if activities:
        activities_logged_many.send(sender=Activity, tenant=tenant, activities=activities)
    for index, activity in valid:
        results[index] = activity
    return cast(list[Activity | Exception], results)  # every draft got its activity or its error above


# The columns an activity's save writes (all but its id and tenant): activities_update_many writes the same.
_SAVED_FIELDS = tuple(
    field.attname for field in Activity._meta.concrete_fields if field.name not in ("id", "tenant")
)


@transaction.atomic
def activities_update_many(
    *, tenant: Tenant, actor: User | None, changes: Sequence[tuple[Activity, dict[str, Any]]]
) -> list[Activity | Exception]:
    """activity_update for many activities at once (imports: a file imported again): the same rules, the owners'
    memberships in one query and each new owner checked once, then one UPDATE for the set (a history event for
    each changed activity from the database's row trigger, booked to the actor) instead of a save each. `changes`:
    (the activity as read, its new values). An external id does not change here (activity_update changes it),
    except that an activity without one takes the one given: the caller read every record holding the ids given
    (an import chunk's lookups; a writer racing in between fails the UPDATE on the unique constraint). Returns, in the order of `changes`, each updated activity or the error that
    kept it as it was. A constraint only the database checks raises for the whole set (the caller updates them
    one by one to find the culprit). Sends accounts.signals.activities_updated_many (no post_save)."""
    now = timezone.now()
    cleaner = SetCleaner(Activity, CLEAN_EXCLUDE)
    results: list[Activity | Exception | None] = [None] * len(changes)
    # The relations the rules look at that the changes do not give, read for the whole set (one query each).
    _prefetch_unchanged(changes, _RELATIONS)
    valid: list[tuple[int, Activity]] = []
    previous: dict[int, int | None] = {}
    counted: dict[int, tuple[Any, ...]] = {}
    moved: set[int] = set()  # the changes that move their activity onto another lead
    moved_onto: dict[Any, Any] = {}  # each lead an activity moves onto, by id
    for index, (activity, values) in enumerate(changes):
        try:
            if (
                activity.external_id
                and values.get("external_id", activity.external_id) != activity.external_id
            ):
                raise ValidationError({"external_id": _("This field cannot be set here.")})
            previous[index] = activity.owner_id
            previous_lead_id = activity.lead_id
            counted[index] = _counted_on_lead(activity)
            _apply_change(activity, values, now)
            _clean_activity(tenant, activity, one=False, cleaner=cleaner)
            if activity.lead is not None and activity.lead_id != previous_lead_id:
                moved.add(index)
                moved_onto[activity.lead_id] = activity.lead
        except (ValidationError, PermissionDenied, AppError) as exc:
            results[index] = exc
            continue
        valid.append((index, activity))
    if moved_onto:
        # activity_update's rule: the edit right on a lead an activity moves onto, asked for the set's leads at once.
        refused = _leads_refused(tenant, actor, moved_onto)
        for index, activity in valid:
            if index in moved and activity.lead_id in refused:
                results[index] = refused[activity.lead_id]
        valid = [(index, activity) for index, activity in valid if results[index] is None]
    # Its owner a member here; a new owner one the actor may assign (activity_update's rules), for the set.
    valid = _owners_checked(
        tenant=tenant, actor=actor, valid=valid, results=results, default=previous.__getitem__
    )
    activities = [activity for _index, activity in valid]
    with _history(actor):
        written = copy_update(Activity, activities, _SAVED_FIELDS)
    if written != len(activities):
        # One went (or is another company's) since the caller read it: the caller retries them one by one.
        raise Activity.DoesNotExist
    if activities:
        activities_updated_many.send(sender=Activity, tenant=tenant, activities=activities)
    # activity_update's rule: a done activity that counts on its lead where it did not before (moved onto it, or
    # done, of another kind or at another time by this change) is logged there, as activity_log logs it: the
    # lead's clock moves forward, a new lead starts working (outside an import), the lead is rescored.
    logged = [
        activity
        for index, activity in valid
        if activity.lead_id is not None and activity.done and _counted_on_lead(activity) != counted[index]
    ]
    if logged:
        activities_logged_many.send(sender=Activity, tenant=tenant, activities=logged)
    for index, activity in valid:
        results[index] = activity
    return cast(list[Activity | Exception], results)  # every change got its activity or its error above


def _actor_may_edit(tenant: Tenant, actor: User | None, activity: Activity) -> bool:
    membership = actor_membership(tenant=tenant, actor=actor)
    return membership is None or activity_can_edit(membership, activity)


def activities_open_system_tasks(
    *, tenant: Tenant, tasks: Sequence[tuple[Account, User | None, str, datetime.datetime]]
) -> list[Activity]:
    """Open many tasks for the system at once (no actor; playbooks): `tasks` are (account, owner, subject, due_at).
    The rules of activity_log for an open task on an account, checked for the whole set in one query each (the
    accounts are the tenant's and live, the owners its active members), then one INSERT; each row gets its
    history event from the database like a single save. No post_save is sent: the caller schedules what follows
    (the health of the accounts)."""
    if not tasks:
        return []
    for account, _owner, _subject, _due in tasks:
        _same_tenant(tenant, account, "account")
        _check_live(account, "account")
    owner_ids = {owner.pk for _a, owner, _s, _d in tasks if owner is not None}
    active = set(
        Membership.objects.filter(
            tenant=tenant, user_id__in=owner_ids, status=MembershipStatus.ACTIVE
        ).values_list("user_id", flat=True)
    )
    if owner_ids - active:
        raise ValidationError({"owner": _("The owner must be an active member of this company.")})
    rows = []
    for account, owner, subject, due_at in tasks:
        subject = re.sub(r"\s+", " ", (subject or "").strip()) or str(ActivityKind.TASK.label)
        rows.append(
            Activity(
                tenant=tenant,
                kind=ActivityKind.TASK,
                subject=subject[:200],  # Activity.subject's max_length
                owner=owner,
                account=account,
                due_at=due_at,
                done=False,
            )
        )
    with _history(None):
        return Activity.objects.bulk_create(rows)


def _apply_change(activity: Activity, values: dict[str, Any], now: datetime.datetime) -> None:
    """Set an activity's new values by activity_update's rules (a done activity without a time happened `now`)."""
    _unknown_fields(values, ACTIVITY_FIELDS)
    _check_call_details(
        values.get("kind", activity.kind), values.get("outcome"), values.get("duration_minutes")
    )
    for key, value in values.items():
        setattr(activity, key, value)
    if activity.done and activity.occurred_at is None:
        activity.occurred_at = now


@transaction.atomic
def activity_update(*, tenant: Tenant, actor: User | None, activity: Activity, **fields: Any) -> Activity:
    """Change an activity by activity_log's rules. One that now counts on a lead where it did not before (moved
    onto the lead, marked done, or its kind or time changed) is logged there as activity_log logs it: the lead's
    activity clock moves forward, a new lead starts working, the lead is rescored (accounts.signals.activity_logged).
    The lead it leaves keeps its clock, as when an activity is deleted: the clock never goes back."""
    previous_owner_id, previous_lead_id = activity.owner_id, activity.lead_id
    counted = _counted_on_lead(activity)
    _apply_change(activity, fields, timezone.now())
    _clean_activity(tenant, activity)
    _check_activity_external_id(tenant, actor, activity)
    if activity.owner_id != previous_owner_id:
        check_owner_assignable(tenant=tenant, actor=actor, owner_id=activity.owner_id)
    if activity.lead is not None and activity.lead_id != previous_lead_id:
        # Moving an activity onto a lead logs it there: activity_log's edit right on that lead.
        _check_lead_writable(tenant, actor, activity.lead)
    with _history(actor):
        activity.save()
    if activity.lead is not None and activity.done and _counted_on_lead(activity) != counted:
        _notify_lead(tenant, activity.lead, activity.occurred_at, kind=activity.kind, done=True)
    return activity


def _counted_on_lead(activity: Activity) -> tuple[Any, ...]:
    """What decides how an activity counts on its lead (activity_update: a change here logs it there anew)."""
    return (activity.lead_id, activity.done, activity.kind, activity.occurred_at)


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
    _changed_on_commit(tenant, activity, "completed")
    return activity


@transaction.atomic
def activity_reopen(*, tenant: Tenant, actor: User | None, activity: Activity) -> Activity:
    with _history(actor):
        Activity.objects.filter(tenant=tenant, pk=activity.pk).update(
            done=False, occurred_at=None, updated_at=timezone.now()
        )
    activity.refresh_from_db()
    _changed_on_commit(tenant, activity, "reopened")
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
    _changed_on_commit(tenant, activity, "snoozed")
    return activity


@transaction.atomic
def activity_delete(*, tenant: Tenant, actor: User | None, activity: Activity) -> Activity:
    # Activities carry no version (nobody edits one in a long-open form).
    deleted = record_soft_delete(
        queryset=Activity.objects.filter(tenant=tenant), instance=activity, actor=actor, bump_version=False
    )
    _changed_on_commit(tenant, deleted, "deleted")
    return deleted


@transaction.atomic
def activity_restore(*, tenant: Tenant, actor: User | None, activity: Activity) -> Activity:
    restored = record_restore(
        queryset=Activity.objects.filter(tenant=tenant), instance=activity, actor=actor, bump_version=False
    )
    _changed_on_commit(tenant, restored, "restored")
    return restored


def _changed_on_commit(tenant: Tenant, activity: Activity, change: str) -> None:
    """Tell the apps above (lifecycle's health) after commit: these writes are queryset updates, no post_save."""
    tenant_id, activity_id, account_id = tenant.pk, activity.pk, activity.account_id
    transaction.on_commit(
        lambda: activity_changed.send(
            sender=Activity,
            tenant_id=tenant_id,
            activity_id=activity_id,
            account_id=account_id,
            change=change,
        )
    )


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
