"""Writes of accounts and the account team: create, update (version-checked), delete and restore, lifecycle
stages, team members.

Every write runs in one transaction, stamps the acting user into the django-pghistory context (so the history
shows who) and keeps `search_text` current."""

from __future__ import annotations

import re
from collections.abc import Mapping
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
    _history,
    _same_tenant,
    _unknown_fields,
    check_external_id_free,
    check_owner_assignable,
)
from crm.errors import AppError
from crm.history import history_actor
from crm.models import Tenant, User
from crm.normalize import normalize_domain
from crm.records import record_restore, record_soft_delete, record_update_versioned

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


def _clean_account(
    tenant: Tenant, account: Account, *, check_owner: bool = True, actor: User | None = None
) -> None:
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
    check_external_id_free(
        tenant=tenant,
        actor=actor,
        obj=account,
        can_edit=lambda membership, other: can_edit_account(
            tenant=tenant, membership=membership, account=other
        ),
        message=_("Another account has this external id."),
    )
    account.full_clean(exclude=["tenant", "owner", "parent", "merged_into", "search_text"])
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
