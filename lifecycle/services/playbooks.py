"""Playbooks: tasks opened from the tenant's templates when an account enters onboarding (stage conversion) or
becomes at risk (health under the threshold), once per episode.

An episode is named by its start: the date of the account's latest change into conversion, or the moment its
health went under the threshold (HealthScore.at_risk_since). A PlaybookRun row per (account, trigger, episode) is
written with the tasks, in the health recompute's transaction (which holds the tenant's advisory lock): a second
run of the same episode finds the row and creates nothing; a new episode has a new key and gets new tasks.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import CharField, Exists, F, Func, OuterRef, Value
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import Account, AccountMember, LifecycleStageName
from accounts.services.activities import activities_open_system_tasks
from crm.history import history_actor
from crm.models import Membership, MembershipStatus, Role, Tenant, User
from lifecycle.models import (
    HealthScore,
    HealthSettings,
    LifecycleChange,
    PlaybookAssignee,
    PlaybookRun,
    PlaybookTemplate,
    PlaybookTrigger,
)
from lifecycle.services.health import health_schedule_recompute

DEFAULT_TEMPLATES: tuple[tuple[str, Any, int, str], ...] = (
    (
        PlaybookTrigger.ONBOARDING,
        gettext_lazy("Kick-off call with the new customer"),
        3,
        PlaybookAssignee.OWNER,
    ),
    (PlaybookTrigger.ONBOARDING, gettext_lazy("Check onboarding progress"), 21, PlaybookAssignee.CS),
    (
        PlaybookTrigger.AT_RISK,
        gettext_lazy("Call the customer: their health dropped"),
        2,
        PlaybookAssignee.CS,
    ),
    (
        PlaybookTrigger.AT_RISK,
        gettext_lazy("Review the at-risk account with the manager"),
        7,
        PlaybookAssignee.MANAGER,
    ),
)
TEMPLATE_FIELDS = ("trigger", "subject", "due_in_days", "assignee", "is_active", "order")


# --- templates --------------------------------------------------------------------------------------------------


def playbook_templates_ensure_defaults(*, tenant: Tenant) -> None:
    """Create the default templates, in the tenant's language, the first time playbooks are used."""
    from lifecycle.services.health import health_settings_get

    settings = health_settings_get(tenant=tenant)
    if settings.playbooks_seeded:
        return
    settings = HealthSettings.objects.select_for_update().get(pk=settings.pk)
    if settings.playbooks_seeded:
        return
    with translation.override(tenant.default_locale):
        PlaybookTemplate.objects.bulk_create(
            [
                PlaybookTemplate(
                    tenant=tenant,
                    trigger=trigger,
                    subject=str(subject),
                    due_in_days=days,
                    assignee=who,
                    order=n,
                )
                for n, (trigger, subject, days, who) in enumerate(DEFAULT_TEMPLATES)
            ]
        )
    HealthSettings.objects.filter(pk=settings.pk).update(playbooks_seeded=True)


def _clean_template(template: PlaybookTemplate) -> None:
    template.subject = " ".join((template.subject or "").split())
    errors: dict[str, list[str]] = {}
    if not template.subject:
        errors["subject"] = [_("Enter a subject.")]
    if template.trigger not in PlaybookTrigger.values:
        errors["trigger"] = [_("Choose onboarding or at risk.")]
    if template.assignee not in PlaybookAssignee.values:
        errors["assignee"] = [_("Choose the account owner, a customer success member or the manager.")]
    try:
        days = int(template.due_in_days)
    except (TypeError, ValueError):
        errors["due_in_days"] = [_("Enter a whole number.")]
    else:
        if not 0 <= days <= 365:
            errors["due_in_days"] = [_("Enter a number of days from 0 to 365.")]
        template.due_in_days = days
    if len(template.subject) > 200:
        errors["subject"] = [_("Use at most 200 characters.")]
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def playbook_template_create(*, tenant: Tenant, actor: User | None, **fields: Any) -> PlaybookTemplate:
    unknown = set(fields) - set(TEMPLATE_FIELDS)
    if unknown:
        raise ValidationError({name: _("This field cannot be changed.") for name in sorted(unknown)})
    playbook_templates_ensure_defaults(tenant=tenant)
    template = PlaybookTemplate(tenant=tenant, **fields)
    _clean_template(template)
    with history_actor(actor):
        template.save()
    return template


@transaction.atomic
def playbook_template_update(
    *, tenant: Tenant, actor: User | None, template: PlaybookTemplate, **fields: Any
) -> PlaybookTemplate:
    unknown = set(fields) - set(TEMPLATE_FIELDS)
    if unknown:
        raise ValidationError({name: _("This field cannot be changed.") for name in sorted(unknown)})
    if template.tenant_id != tenant.pk:
        raise PlaybookTemplate.DoesNotExist
    for name, value in fields.items():
        setattr(template, name, value)
    _clean_template(template)
    with history_actor(actor):
        template.save()
    return template


@transaction.atomic
def playbook_template_delete(*, tenant: Tenant, actor: User | None, template: PlaybookTemplate) -> None:
    with history_actor(actor):
        PlaybookTemplate.objects.filter(tenant=tenant, pk=template.pk).delete()


# --- runs -------------------------------------------------------------------------------------------------------


def _episodes(tenant: Tenant, ids: list[int] | None) -> list[tuple[int, str, str]]:
    """(account id, trigger, episode key) of the episodes that have no run yet. The runs are looked up in the
    database (an anti-join on the runs' unique key), so a night with thousands of at-risk accounts whose episodes
    already ran reads no run rows and sends no id lists."""
    at_risk = (
        HealthScore.objects.filter(tenant=tenant, at_risk_since__isnull=False)
        .annotate(key=_utc_text(F("at_risk_since")))
        .exclude(
            Exists(
                PlaybookRun.objects.filter(
                    tenant=tenant,
                    account_id=OuterRef("account_id"),
                    trigger=PlaybookTrigger.AT_RISK,
                    episode_key=OuterRef("key"),
                )
            )
        )
    )
    if ids is not None:
        at_risk = at_risk.filter(account_id__in=ids)
    found: list[tuple[int, str, str]] = [
        (account_id, PlaybookTrigger.AT_RISK.value, key)
        for account_id, key in at_risk.values_list("account_id", "key")
    ]
    entries = (
        LifecycleChange.objects.filter(
            tenant=tenant,
            to_stage=LifecycleStageName.CONVERSION,
            account__lifecycle_stage=LifecycleStageName.CONVERSION,
            account__deleted_at=None,
        )
        .exclude(
            Exists(
                LifecycleChange.objects.filter(
                    tenant=tenant, account_id=OuterRef("account_id"), date__gt=OuterRef("date")
                )
            )
        )
        .annotate(key=Func(F("date"), Value("YYYY-MM-DD"), function="to_char", output_field=CharField()))
        .exclude(
            Exists(
                PlaybookRun.objects.filter(
                    tenant=tenant,
                    account_id=OuterRef("account_id"),
                    trigger=PlaybookTrigger.ONBOARDING,
                    episode_key=OuterRef("key"),
                )
            )
        )
    )
    if ids is not None:
        entries = entries.filter(account_id__in=ids)
    found.extend(
        (account_id, PlaybookTrigger.ONBOARDING.value, key)
        for account_id, key in entries.values_list("account_id", "key")
    )
    return found


def _utc_text(expression: F) -> Func:
    """The at-risk episode key: the instant at_risk_since in UTC as text, 2026-05-01T08:00:00.000000Z."""
    return Func(
        Func(Value("UTC"), expression, function="timezone"),
        Value('YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
        function="to_char",
        output_field=CharField(),
    )


class _Assignees:
    """Who gets a playbook task: the account owner, a cs member (the account team's, else round-robin over the
    tenant's cs members), or the owner's team manager (else an admin). Loaded once per run."""

    def __init__(self, tenant: Tenant, account_ids: list[int]) -> None:
        members = list(
            Membership.objects.filter(tenant=tenant, status=MembershipStatus.ACTIVE)
            .select_related("user")
            .order_by("user_id")
        )
        self.by_user = {m.user_id: m for m in members}
        self.cs = [m.user for m in members if m.role == Role.CS]
        self.admins = [m.user for m in members if m.role == Role.ADMIN]
        self.managers: dict[int, User] = {}
        for m in members:
            if m.role == Role.SALES_MANAGER and m.team_id and m.team_id not in self.managers:
                self.managers[m.team_id] = m.user
        cs_ids = {u.pk for u in self.cs}
        self.account_cs: dict[int, User] = {}
        for account_id, user_id in (
            AccountMember.objects.filter(tenant=tenant, account_id__in=account_ids, user_id__in=cs_ids)
            .order_by("account_id", "id")
            .values_list("account_id", "user_id")
        ):
            self.account_cs.setdefault(account_id, self.by_user[user_id].user)
        self.turn = 0

    def pick(self, account: Account, assignee: str) -> User | None:
        owner = self.by_user[account.owner_id].user if account.owner_id in self.by_user else None
        if assignee == PlaybookAssignee.CS:
            if account.pk in self.account_cs:
                return self.account_cs[account.pk]
            if self.cs:
                self.turn += 1
                return self.cs[(self.turn - 1) % len(self.cs)]
            return owner
        if assignee == PlaybookAssignee.MANAGER:
            owner_membership = self.by_user.get(account.owner_id) if account.owner_id else None
            if owner_membership is not None and owner_membership.team_id in self.managers:
                return self.managers[owner_membership.team_id]
            return self.admins[0] if self.admins else owner
        return owner or (self.cs[0] if self.cs else None)


def playbooks_run(*, tenant: Tenant, account_ids: Iterable[int] | None = None) -> int:
    """Open the playbook tasks of every new episode of these accounts (None: all); returns the tasks created.
    Runs inside the health recompute's transaction and lock; tasks go through accounts' activity service."""
    ids = None if account_ids is None else list(account_ids)
    episodes = _episodes(tenant, ids)
    if not episodes:
        return 0
    playbook_templates_ensure_defaults(tenant=tenant)
    templates: dict[str, list[PlaybookTemplate]] = {}
    for template in PlaybookTemplate.objects.filter(tenant=tenant, is_active=True).order_by("order", "id"):
        templates.setdefault(template.trigger, []).append(template)
    accounts = {
        a.pk: a
        for a in Account.objects.filter(tenant=tenant, pk__in={e[0] for e in episodes}, deleted_at=None)
    }
    assignees = _Assignees(tenant, list(accounts))
    now = timezone.now()
    tasks: list[tuple[Account, User | None, str, datetime.datetime]] = []
    runs: list[PlaybookRun] = []
    for account_id, trigger, key in sorted(episodes):
        account = accounts.get(account_id)
        if account is None:
            continue
        chosen = templates.get(trigger, [])
        for template in chosen:
            tasks.append(
                (
                    account,
                    assignees.pick(account, template.assignee),
                    template.subject,
                    now + datetime.timedelta(days=template.due_in_days),
                )
            )
        runs.append(
            PlaybookRun(
                tenant=tenant, account=account, trigger=trigger, episode_key=key, tasks_created=len(chosen)
            )
        )
    # One INSERT for the tasks and one for the runs (a row each used to cost 7 ms: 1,266 tasks took 8.6 s of the
    # nightly run in bench/lifecycle.py). The runs' unique constraint still guards "once per episode".
    activities_open_system_tasks(tenant=tenant, tasks=tasks)
    PlaybookRun.objects.bulk_create(runs)
    # What each task's post_save did: the accounts' health is recomputed after the commit (one batch).
    health_schedule_recompute(tenant_id=tenant.pk, account_ids=sorted({account.pk for account, *_ in tasks}))
    return len(tasks)
