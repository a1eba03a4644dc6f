"""What the accounts FilterSets share: the tenant and member they filter for, search, team and owner filters."""

from __future__ import annotations

from typing import Any

import django_filters
from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from accounts.selectors import members as members_selectors
from crm.models import Membership, MembershipStatus, Team, Tenant, User
from crm.search import search_text_q

ANY = _("Any")


class _TenantFilterSet(django_filters.FilterSet):
    """Knows the tenant and the member, from the arguments (pages) or from the request (API)."""

    def __init__(
        self,
        data: Any = None,
        queryset: QuerySet | None = None,
        *,
        request: Any = None,
        prefix: str | None = None,
        tenant: Tenant | None = None,
        membership: Membership | None = None,
    ) -> None:
        self.tenant = tenant or getattr(request, "tenant", None)
        self.membership = membership or getattr(request, "membership", None)
        super().__init__(data, queryset, request=request, prefix=prefix)
        self.setup_choices()

    def setup_choices(self) -> None:
        """Narrow the model choices to the tenant (and to what the member may see)."""
        if self.tenant is None:
            return
        for name in ("owner",):
            if name in self.filters:
                self.filters[name].queryset = members_selectors.members_for_choices(tenant=self.tenant)
        if "team" in self.filters:
            self.filters["team"].queryset = Team.objects.filter(tenant=self.tenant).order_by("name")


def _search(queryset: QuerySet, name: str, value: str) -> QuerySet:
    value = (value or "").strip().lower()
    return queryset.filter(search_text_q(value)) if value else queryset  # 张伟 also as stored: '伟 张'


def _team(queryset: QuerySet, name: str, value: Team | None) -> QuerySet:
    if not value:
        return queryset
    members = Membership.objects.filter(
        tenant_id=value.tenant_id, team=value, status=MembershipStatus.ACTIVE
    ).values("user_id")
    return queryset.filter(owner_id__in=members)


def _noop(queryset: QuerySet, name: str, value: Any) -> QuerySet:
    """`sort` is read by the cursor pagination; the filter only validates and renders it."""
    return queryset


class OwnerFilter(django_filters.ModelChoiceFilter):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("queryset", User.objects.none())
        kwargs.setdefault("label", _("Owner"))
        kwargs.setdefault("empty_label", ANY)
        super().__init__(*args, **kwargs)

    @property
    def field(self) -> forms.Field:
        field = super().field
        field.label_from_instance = lambda user: user.display_name
        return field
