"""Writes of accounts and the account team: create, update (version-checked), delete and restore, lifecycle
stages, team members.

Every write runs in one transaction, stamps the acting user into the django-pghistory context (so the history
shows who) and keeps `search_text` current."""

from __future__ import annotations

import datetime
from collections.abc import Mapping, Sequence
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.utils.translation import gettext as _

from accounts.models import Account, AccountAccess, AccountMember, LifecycleStageName
from accounts.selectors.visibility import can_edit_account
from accounts.services.common import (
    _attname,
    _check_live,
    _check_member,
    _create_set,
    _history,
    _same_tenant,
    _unknown_fields,
    _update_set,
    check_external_id_free,
    check_owner_assignable,
)
from crm.bulk import SetCleaner
from crm.errors import AppError
from crm.history import history_actor
from crm.models import Tenant, User
from crm.normalize import normalize_domain
from crm.records import (
    record_restore,
    record_soft_delete,
    record_update_versioned,
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


def account_search_text(account: Account) -> str:
    return " ".join(part for part in [account.name.lower(), (account.domain or "").lower()] if part)


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


# What an account's full_clean leaves to the services: its relations and its derived search text.
CLEAN_EXCLUDE = ("tenant", "owner", "parent", "merged_into", "search_text")


def _check_parent_chain(account: Account) -> None:
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


def _clean_account(
    tenant: Tenant,
    account: Account,
    *,
    check_owner: bool = True,
    actor: User | None = None,
    cleaner: SetCleaner | None = None,
    check_parent: bool = True,
) -> None:
    """The rules every account meets. With a `cleaner` (the set services: crm.bulk.SetCleaner over CLEAN_EXCLUDE,
    full_clean's field checks once per distinct value) it leaves out what asks the database for each account: the
    owner's membership and the external id's clash (the caller checks both for the set) and full_clean's unique
    and constraint checks (the database refuses the set, whose rows are then written one by one).
    `check_parent=False`: the parent did not change, or the account is new (no chain can loop through it)."""
    account.name = " ".join((account.name or "").split())
    account.domain = normalize_domain(account.domain)
    account.industry = (account.industry or "").strip()
    account.region = (account.region or "").strip()
    account.external_id = (account.external_id or "").strip()
    if not account.name:
        raise ValidationError({"name": _("Enter the company name.")})
    _same_tenant(tenant, account.owner, "owner")
    _same_tenant(tenant, account.parent, "parent")
    _check_live(account.parent, "parent")
    if cleaner is None and check_owner:
        _check_member(tenant, account.owner)
    if check_parent:
        _check_parent_chain(account)
    if cleaner is not None:
        cleaner.clean(account)
    else:
        check_external_id_free(
            tenant=tenant,
            actor=actor,
            obj=account,
            can_edit=lambda membership, other: can_edit_account(
                tenant=tenant, membership=membership, account=other
            ),
            message=_("Another account has this external id."),
        )
        account.full_clean(exclude=list(CLEAN_EXCLUDE))
    account.search_text = account_search_text(account)


@transaction.atomic
def account_create(*, tenant: Tenant, actor: User | None, **fields: Any) -> Account:
    """Create an account (owner defaults to the actor). Side effects: history event with the actor."""
    _unknown_fields(fields, ACCOUNT_FIELDS + ("created_at", "lifecycle_stage"))
    fields.setdefault("owner", actor)
    account = Account(tenant=tenant, **fields)
    _clean_account(tenant, account, actor=actor)
    if account.owner_id != (actor.pk if actor is not None else None):
        check_owner_assignable(tenant=tenant, actor=actor, owner_id=account.owner_id)
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
    previous_owner_id = draft.owner_id
    for key, value in fields.items():
        setattr(draft, key, value)
    _clean_account(tenant, draft, check_owner="owner" in fields, actor=actor)
    if draft.owner_id != previous_owner_id:
        check_owner_assignable(tenant=tenant, actor=actor, owner_id=draft.owner_id)
    attnames = [_attname(Account, name) for name in fields]
    values = {attname: getattr(draft, attname) for attname in attnames}
    values["search_text"] = draft.search_text
    return record_update_versioned(
        queryset=Account.objects.filter(tenant=tenant),
        instance=account,
        expected_version=version,
        values=values,
        actor=actor,
        snapshot=account_snapshot,
        message=_(
            "This record was changed by someone else since you opened it. Review their changes and save again."
        ),
    )


@transaction.atomic
def accounts_create_many(
    *, tenant: Tenant, actor: User | None, drafts: Sequence[dict[str, Any]], external_ids_read: bool = False
) -> list[Account | Exception]:
    """account_create for many accounts at once (imports): `drafts` are its keyword arguments. The same rules, the
    owners' memberships in one query, each owner choice checked once, one query for the external ids (none when
    the caller `external_ids_read` them in this transaction: an import chunk's lookups) and one INSERT (history
    events from the database's statement trigger, booked to the actor). A new account's parent is one that
    exists already (a loop cannot run through an account nobody names yet). Returns, in the order of `drafts`,
    each created account or the error that kept it out. A constraint only the database checks raises for the
    whole set (the caller creates them one by one to find the culprit)."""
    cleaner = SetCleaner(Account, CLEAN_EXCLUDE)
    actor_id = actor.pk if actor is not None else None

    def build(index: int) -> Account:
        draft = drafts[index]
        _unknown_fields(draft, ACCOUNT_FIELDS + ("created_at", "lifecycle_stage"))
        account = Account(tenant=tenant, **{"owner": actor, **draft})
        _clean_account(tenant, account, actor=actor, cleaner=cleaner, check_parent=False)
        return account

    return _create_set(
        model=Account,
        tenant=tenant,
        actor=actor,
        count=len(drafts),
        build=build,
        default=lambda _index: actor_id,
        can_edit=lambda membership, other: can_edit_account(
            tenant=tenant, membership=membership, account=other
        ),
        message=_("Another account has this external id."),
        external_ids_read=external_ids_read,
    )


@transaction.atomic
def accounts_update_many(
    *,
    tenant: Tenant,
    actor: User | None,
    changes: Sequence[tuple[Account, dict[str, Any], datetime.datetime | None]],
) -> list[Account | Exception]:
    """account_update (no version check) for many accounts at once (imports: a file imported again), and the
    creation time an import keeps: `changes` are (the account as read, its new values, its creation time or None).
    The same rules for the set (accounts.services.common._update_set: read again and locked in one query, one
    UPDATE; the parent chain walked only for a new parent). Returns, in the order of `changes`, each updated
    account or the error that kept it as it was."""
    cleaner = SetCleaner(Account, CLEAN_EXCLUDE)

    def clean(account: Account, values: dict[str, Any]) -> None:
        parent_id = account.parent_id
        for key, value in values.items():
            setattr(account, key, value)
        _clean_account(tenant, account, cleaner=cleaner, check_parent=account.parent_id != parent_id)

    return _update_set(
        model=Account,
        tenant=tenant,
        actor=actor,
        changes=changes,
        allowed=ACCOUNT_FIELDS,
        relations=("owner", "parent"),
        clean=clean,
    )


@transaction.atomic
def account_delete(*, tenant: Tenant, actor: User | None, account: Account) -> Account:
    """Soft delete; the account disappears from lists and can be restored (Undo)."""
    return record_soft_delete(queryset=Account.objects.filter(tenant=tenant), instance=account, actor=actor)


@transaction.atomic
def account_restore(*, tenant: Tenant, actor: User | None, account: Account) -> Account:
    if account.merged_into_id:
        raise AppError(_("This account was merged into another one; undo the merge instead."))
    return record_restore(queryset=Account.objects.filter(tenant=tenant), instance=account, actor=actor)


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
