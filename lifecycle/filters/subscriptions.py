"""django-filter FilterSets of subscriptions and renewals, shared by the pages, the API and the exports, and their
keyset pagination. Account choices come from the visibility selector: another tenant's or an invisible account
id is refused (400 in the API, an empty list on pages) exactly like one that does not exist."""

from __future__ import annotations

from typing import Any

import django_filters
from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from accounts.models import Account
from crm.dates import tenant_today
from crm.formstyle import StyledForm
from crm.models import Membership, MembershipStatus, Tenant, User
from crm.pagination import CursorPagination
from crm.validators import SANE_DATE_VALIDATORS
from crm.widgets import ChosenOnlySelect
from lifecycle.models import Subscription
from lifecycle.selectors.subscriptions import status_expression, subscription_accounts

STATUS_CHOICES = [("active", _("Active")), ("future", _("Future")), ("ended", _("Ended"))]
SUBSCRIPTION_SORTS: dict[str, tuple[str, ...]] = {
    "-start": ("-start_date", "-id"),
    "start": ("start_date", "id"),
    "end": ("end_date", "id"),
    "-end": ("-end_date", "-id"),
}
SUBSCRIPTION_SORT_CHOICES = [
    ("-start", _("Newest start first")),
    ("start", _("Oldest start first")),
    ("end", _("Ending soonest")),
    ("-end", _("Ending latest")),
]


class SortedCursorPagination(CursorPagination):
    """Keyset pagination ordered by the `sort` parameter (one of `sorts`): no COUNT, no OFFSET walk."""

    sorts: dict[str, tuple[str, ...]] = SUBSCRIPTION_SORTS
    default_sort = "-start"

    def get_ordering(self, request: Any, queryset: QuerySet, view: Any) -> tuple[str, ...]:
        sort = request.query_params.get("sort") or self.default_sort
        return self.sorts.get(sort, self.sorts[self.default_sort])


class SubscriptionCursorPagination(SortedCursorPagination):
    page_size = 50


class RenewalCursorPagination(SortedCursorPagination):
    sorts = {"end": ("end_date", "id"), "-end": ("-end_date", "-id")}
    default_sort = "end"
    page_size = 50


def _members(tenant: Tenant) -> QuerySet[User]:
    return (
        User.objects.filter(
            memberships__tenant=tenant, memberships__status=MembershipStatus.ACTIVE, is_active=True
        )
        .distinct()
        .order_by("full_name", "email")
    )


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
        if self.tenant is not None and self.membership is not None:
            self.filters["account"].queryset = subscription_accounts(
                tenant=self.tenant, membership=self.membership
            ).order_by("name")
            self.filters["owner"].queryset = _members(self.tenant)


class SubscriptionFilterSet(_TenantFilterSet):
    """account, plan (contains), status on the tenant's today, ending between two dates, account owner."""

    account = django_filters.ModelChoiceFilter(
        label=_("Account"), queryset=Account.objects.none(), empty_label=_("Any"), widget=ChosenOnlySelect
    )
    account_name = django_filters.CharFilter(
        label=_("Account name"), field_name="account__name", lookup_expr="icontains"
    )
    plan = django_filters.CharFilter(label=_("Plan"), field_name="plan", lookup_expr="icontains")
    status = django_filters.ChoiceFilter(
        label=_("Status"), choices=STATUS_CHOICES, method="filter_status", empty_label=_("Any")
    )
    ending_after = django_filters.DateFilter(
        validators=SANE_DATE_VALIDATORS,
        label=_("Ending from"),
        field_name="end_date",
        lookup_expr="gte",
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    ending_before = django_filters.DateFilter(
        validators=SANE_DATE_VALIDATORS,
        label=_("Ending until"),
        field_name="end_date",
        lookup_expr="lte",
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    owner = django_filters.ModelChoiceFilter(
        label=_("Account owner"),
        field_name="account__owner",
        queryset=User.objects.none(),
        empty_label=_("Any"),
    )
    sort = django_filters.ChoiceFilter(
        label=_("Sort"), choices=SUBSCRIPTION_SORT_CHOICES, method="filter_noop", empty_label=None
    )

    class Meta:
        model = Subscription
        fields = ["account", "account_name", "plan", "status", "ending_after", "ending_before", "owner"]
        form = StyledForm

    def filter_status(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        if not value or self.tenant is None:
            return queryset
        return queryset.alias(status_now=status_expression(tenant_today(self.tenant))).filter(
            status_now=value
        )

    def filter_noop(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        # The pagination reads `sort`; the filter only validates and shows it.
        return queryset


class RenewalFilterSet(_TenantFilterSet):
    """The renewals page and API: the window is its own parameter; these narrow it."""

    account = django_filters.ModelChoiceFilter(
        label=_("Account"), queryset=Account.objects.none(), empty_label=_("Any"), widget=ChosenOnlySelect
    )
    account_name = django_filters.CharFilter(
        label=_("Account name"), field_name="account__name", lookup_expr="icontains"
    )
    owner = django_filters.ModelChoiceFilter(
        label=_("Deal owner"),
        field_name="renewal_opportunity__owner",
        queryset=User.objects.none(),
        empty_label=_("Any"),
    )
    plan = django_filters.CharFilter(label=_("Plan"), field_name="plan", lookup_expr="icontains")

    class Meta:
        model = Subscription
        fields = ["account", "account_name", "owner", "plan"]
        form = StyledForm
