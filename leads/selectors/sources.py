"""Lead sources (reads): list, one source, the choices a lead or campaign may pick."""

from __future__ import annotations

from django.db.models import QuerySet

from crm.models import Membership, Tenant
from leads.models import LeadSource
from leads.selectors.filtering import apply_filterset
from leads.selectors.setup_roles import can_read_sources


def source_list(
    *, tenant: Tenant, membership: Membership, filters: dict | None = None
) -> QuerySet[LeadSource]:
    if not can_read_sources(membership):
        return LeadSource.objects.none()
    qs = LeadSource.objects.filter(tenant=tenant, deleted_at__isnull=True).order_by("name", "id")
    return apply_filterset("source", qs, filters)


def source_get(
    *, tenant: Tenant, membership: Membership, pk: int, include_deleted: bool = False
) -> LeadSource:
    if not can_read_sources(membership):
        raise LeadSource.DoesNotExist
    qs = LeadSource.objects.filter(tenant=tenant)
    if not include_deleted:
        qs = qs.filter(deleted_at__isnull=True)
    return qs.get(pk=pk)


def source_choices(*, tenant: Tenant) -> QuerySet[LeadSource]:
    """Sources a lead or campaign may pick (active, not deleted): for forms and body validation."""
    return LeadSource.objects.filter(tenant=tenant, deleted_at__isnull=True, is_active=True).order_by("name")
