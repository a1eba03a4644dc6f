"""django-filter FilterSet of campaigns, shared by the pages and the API.

Choice querysets are built from the scoped manager at request time, so an id of another tenant (or of a deleted
source) is not a valid choice: the page shows an empty list, the API answers 400 naming the parameter."""

from __future__ import annotations

import django_filters
from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy as _

from crm.formstyle import StyledForm
from crm.models import MembershipStatus, User, ValueListKey
from crm.tenancy import current_tenant_or_none
from crm.validators import SANE_DATE_VALIDATORS
from crm.value_lists import value_list
from leads.models import Campaign, Channel, LeadSource, SourceKind


def _sources(request) -> QuerySet[LeadSource]:  # type: ignore[no-untyped-def]
    return LeadSource.objects.filter(deleted_at__isnull=True)


def tenant_member_choices(request) -> QuerySet[User]:  # type: ignore[no-untyped-def]
    tenant = getattr(request, "tenant", None) or current_tenant_or_none()
    if tenant is None:
        return User.objects.none()
    return User.objects.filter(
        memberships__tenant=tenant, memberships__status=MembershipStatus.ACTIVE
    ).order_by("full_name", "email")


def _channels() -> list[tuple[str, str]]:
    """The company's channels, retired ones included (old campaigns have them)."""
    tenant = current_tenant_or_none()
    if tenant is None:
        return [(value, str(label)) for value, label in Channel.choices]
    return [(item.value, item.label) for item in value_list(tenant=tenant, list_key=ValueListKey.CHANNEL)]


class CampaignFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(method="filter_q", label=_("Search"))
    channel = django_filters.ChoiceFilter(choices=_channels, label=_("Channel"), empty_label=_("Any"))
    source_kind = django_filters.ChoiceFilter(
        choices=SourceKind.choices, label=_("Source kind"), empty_label=_("Any")
    )
    source = django_filters.ModelChoiceFilter(queryset=_sources, label=_("Lead source"), empty_label=_("Any"))
    owner = django_filters.ModelChoiceFilter(
        queryset=tenant_member_choices, label=_("Owner"), empty_label=_("Any")
    )
    active_on = django_filters.DateFilter(
        validators=SANE_DATE_VALIDATORS, method="filter_active_on", label=_("Running on")
    )
    start_from = django_filters.DateFilter(
        validators=SANE_DATE_VALIDATORS, field_name="start_date", lookup_expr="gte", label=_("Starts from")
    )
    start_to = django_filters.DateFilter(
        validators=SANE_DATE_VALIDATORS, field_name="start_date", lookup_expr="lte", label=_("Starts until")
    )

    class Meta:
        model = Campaign
        form = StyledForm
        fields = ["q", "channel", "source_kind", "source", "owner", "active_on", "start_from", "start_to"]

    def filter_q(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.filter(Q(name__icontains=value) | Q(external_id__iexact=value))

    def filter_active_on(self, queryset: QuerySet, name: str, value: object) -> QuerySet:
        return queryset.filter(start_date__lte=value, end_date__gte=value)
