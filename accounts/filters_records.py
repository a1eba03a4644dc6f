"""django-filter FilterSets of the records area, shared by the list pages and the API, and the keyset (cursor)
pagination both use. Choices come from the selectors: another tenant's or an invisible id is refused (400 in the
API, an empty list on pages) exactly like an id that does not exist."""

from __future__ import annotations

from typing import Any

import django_filters
from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from accounts.models import (
    Account,
    Activity,
    ActivityKind,
    Contact,
    ExchangeRate,
    LifecycleStageName,
    Tier,
)
from accounts.selectors import records as selectors
from crm.formstyle import StyledForm
from crm.models import Membership, MembershipStatus, Team, Tenant, User
from crm.pagination import CursorPagination

ANY = _("Any")
ACCOUNT_SORTS: dict[str, tuple[str, ...]] = {
    "name": ("name", "id"),
    "-name": ("-name", "-id"),
    "-created": ("-created_at", "-id"),
    "created": ("created_at", "id"),
}
ACCOUNT_SORT_CHOICES = [
    ("name", _("Name A–Z")),
    ("-name", _("Name Z–A")),
    ("-created", _("Newest first")),
    ("created", _("Oldest first")),
]
CONTACT_SORTS: dict[str, tuple[str, ...]] = {
    "name": ("last_name", "first_name", "id"),
    "-name": ("-last_name", "-first_name", "-id"),
    "-created": ("-created_at", "-id"),
    "created": ("created_at", "id"),
}
ACTIVITY_SORTS: dict[str, tuple[str, ...]] = {
    "-occurred": ("-occurred_at", "-id"),
    "occurred": ("occurred_at", "id"),
    "due": ("due_at", "id"),
    "-due": ("-due_at", "-id"),
    "-id": ("-id",),
}
ACTIVITY_SORT_CHOICES = [
    ("-occurred", _("Latest first")),
    ("occurred", _("Oldest first")),
    ("due", _("Due soonest")),
    ("-due", _("Due latest")),
    ("-id", _("Newest entries")),
]


class SortedCursorPagination(CursorPagination):
    """Keyset pagination whose ordering comes from the `sort` parameter (one of `sorts`); no COUNT, no OFFSET
    walk, so page 10 000 costs what page 1 costs."""

    sorts: dict[str, tuple[str, ...]] = ACCOUNT_SORTS
    default_sort = "name"

    def __init__(
        self, sorts: dict[str, tuple[str, ...]] | None = None, default_sort: str | None = None
    ) -> None:
        if sorts is not None:
            self.sorts = sorts
        if default_sort is not None:
            self.default_sort = default_sort

    def get_ordering(self, request: Any, queryset: QuerySet, view: Any) -> tuple[str, ...]:
        sort = request.query_params.get("sort") or self.default_sort
        return self.sorts.get(sort, self.sorts[self.default_sort])


class AccountCursorPagination(SortedCursorPagination):
    sorts = ACCOUNT_SORTS
    default_sort = "name"


class ContactCursorPagination(SortedCursorPagination):
    sorts = CONTACT_SORTS
    default_sort = "name"


class ActivityCursorPagination(SortedCursorPagination):
    sorts = ACTIVITY_SORTS
    default_sort = "-id"


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
                self.filters[name].queryset = selectors.members_for_choices(tenant=self.tenant)
        if "team" in self.filters:
            self.filters["team"].queryset = Team.objects.filter(tenant=self.tenant).order_by("name")


def _search(queryset: QuerySet, name: str, value: str) -> QuerySet:
    value = (value or "").strip().lower()
    return queryset.filter(search_text__contains=value) if value else queryset


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


class AccountFilterSet(_TenantFilterSet):
    q = django_filters.CharFilter(label=_("Search"), method=_search)
    owner = OwnerFilter(field_name="owner")
    team = django_filters.ModelChoiceFilter(
        label=_("Team"), queryset=Team.objects.none(), method=_team, empty_label=ANY
    )
    tier = django_filters.ChoiceFilter(label=_("Tier"), choices=Tier.choices, empty_label=ANY)
    industry = django_filters.CharFilter(label=_("Industry"), field_name="industry")
    region = django_filters.CharFilter(label=_("Region"), field_name="region")
    lifecycle_stage = django_filters.ChoiceFilter(
        label=_("Lifecycle stage"), choices=LifecycleStageName.choices
    )
    parent = django_filters.NumberFilter(label=_("Parent account"), field_name="parent_id")
    sort = django_filters.ChoiceFilter(
        label=_("Sort"), choices=ACCOUNT_SORT_CHOICES, method=_noop, empty_label=None, null_label=None
    )

    class Meta:
        model = Account
        fields: list[str] = []
        form = StyledForm


class ContactFilterSet(_TenantFilterSet):
    q = django_filters.CharFilter(label=_("Search"), method=_search)
    account = django_filters.ModelChoiceFilter(label=_("Account"), queryset=Account.objects.none())
    owner = OwnerFilter(field_name="owner")
    team = django_filters.ModelChoiceFilter(
        label=_("Team"), queryset=Team.objects.none(), method=_team, empty_label=ANY
    )
    email = django_filters.CharFilter(label=_("Email"), method="filter_email")
    sort = django_filters.ChoiceFilter(
        label=_("Sort"), choices=ACCOUNT_SORT_CHOICES, method=_noop, empty_label=None, null_label=None
    )

    class Meta:
        model = Contact
        fields: list[str] = []
        form = StyledForm

    def setup_choices(self) -> None:
        super().setup_choices()
        if self.tenant is not None and self.membership is not None:
            self.filters["account"].queryset = selectors.account_queryset(
                tenant=self.tenant, membership=self.membership
            )

    def filter_email(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        value = (value or "").strip().lower()
        return queryset.filter(email=value) if value else queryset


class ActivityFilterSet(_TenantFilterSet):
    kind = django_filters.MultipleChoiceFilter(label=_("Kind"), choices=ActivityKind.choices)
    done = django_filters.BooleanFilter(label=_("Done"))
    owner = OwnerFilter(field_name="owner")
    account = django_filters.ModelChoiceFilter(label=_("Account"), queryset=Account.objects.none())
    contact = django_filters.ModelChoiceFilter(label=_("Contact"), queryset=Contact.objects.none())
    opportunity = django_filters.NumberFilter(label=_("Deal"), method="filter_opportunity")
    lead = django_filters.NumberFilter(label=_("Lead"), field_name="lead_id")
    occurred_after = django_filters.IsoDateTimeFilter(field_name="occurred_at", lookup_expr="gte")
    occurred_before = django_filters.IsoDateTimeFilter(field_name="occurred_at", lookup_expr="lt")
    due_after = django_filters.IsoDateTimeFilter(field_name="due_at", lookup_expr="gte")
    due_before = django_filters.IsoDateTimeFilter(field_name="due_at", lookup_expr="lt")
    sort = django_filters.ChoiceFilter(label=_("Sort"), choices=ACTIVITY_SORT_CHOICES, method=_noop)

    class Meta:
        model = Activity
        fields: list[str] = []
        form = StyledForm

    def setup_choices(self) -> None:
        super().setup_choices()
        if self.tenant is not None and self.membership is not None:
            self.filters["account"].queryset = selectors.account_queryset(
                tenant=self.tenant, membership=self.membership
            )
            self.filters["contact"].queryset = selectors.contact_queryset(
                tenant=self.tenant, membership=self.membership
            )

    def filter_opportunity(self, queryset: QuerySet, name: str, value: Any) -> QuerySet:
        return queryset.filter(opportunity_id=value) if value else queryset


class ExchangeRateFilterSet(django_filters.FilterSet):
    currency = django_filters.CharFilter(label=_("Currency"), method="filter_currency")

    class Meta:
        model = ExchangeRate
        fields: list[str] = []

    def filter_currency(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.filter(currency=value.strip().upper()) if value else queryset
