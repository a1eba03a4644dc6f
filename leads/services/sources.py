"""Lead sources (writes): create, edit, retire (soft delete) and restore."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from crm.models import Tenant, User
from leads.models import Campaign, LeadSource, ScoringField, ScoringRule, SourceKind
from leads.services.scoring import leads_rescore_all_on_commit


def _validate_source(*, tenant: Tenant, name: str, kind: str, exclude_pk: int | None = None) -> None:
    errors = {}
    if not name:
        errors["name"] = _("Enter a name.")
    elif LeadSource.objects.filter(tenant=tenant, name__iexact=name).exclude(pk=exclude_pk).exists():
        errors["name"] = _("A lead source with this name already exists (it may be deleted: restore it).")
    if kind not in SourceKind.values:
        errors["kind"] = _("Choose inbound or incentive.")
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def source_create(
    *, tenant: Tenant, actor: User, name: str, kind: str, description: str = "", is_active: bool = True
) -> LeadSource:
    """Create a lead source. Side effects: none."""
    name = (name or "").strip()
    _validate_source(tenant=tenant, name=name, kind=kind)
    return LeadSource.objects.create(
        tenant=tenant, name=name, kind=kind, description=(description or "").strip(), is_active=is_active
    )


@transaction.atomic
def source_update(*, tenant: Tenant, actor: User, source: LeadSource, **fields: object) -> LeadSource:
    """Change name, kind, description or is_active. A new kind is copied to the source's campaigns and, when
    a scoring rule looks at the source kind, every lead is rescored (after commit)."""
    source = LeadSource.objects.select_for_update().get(tenant=tenant, pk=source.pk, deleted_at__isnull=True)
    old_kind = source.kind
    for key in ("name", "kind", "description", "is_active"):
        if key in fields:
            value = fields[key]
            setattr(source, key, value.strip() if isinstance(value, str) else value)
    _validate_source(tenant=tenant, name=source.name, kind=source.kind, exclude_pk=source.pk)
    source.save()
    if source.kind != old_kind:
        Campaign.objects.filter(tenant=tenant, source=source).update(source_kind=source.kind)
        if ScoringRule.objects.filter(tenant=tenant, is_active=True, field=ScoringField.SOURCE_KIND).exists():
            leads_rescore_all_on_commit(tenant)
    return source


@transaction.atomic
def source_delete(*, tenant: Tenant, actor: User, source: LeadSource) -> LeadSource:
    """Soft-delete: the source leaves lists and pickers, its leads keep it for history; undo with restore."""
    LeadSource.objects.filter(tenant=tenant, pk=source.pk).update(deleted_at=timezone.now())
    source.refresh_from_db()
    return source


@transaction.atomic
def source_restore(*, tenant: Tenant, actor: User, source: LeadSource) -> LeadSource:
    LeadSource.objects.filter(tenant=tenant, pk=source.pk).update(deleted_at=None)
    source.refresh_from_db()
    return source
