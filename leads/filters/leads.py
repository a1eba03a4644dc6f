"""The lead inbox filters, shared by the inbox page and the API (one FilterSet, one meaning).

Choices (sources, campaigns, owners) are read in the active tenant and limited to what the member may see, so
an id from another tenant or an invisible owner is an invalid choice: the filter behaves as if it did not exist.
"""

from __future__ import annotations

import datetime
from typing import Any

import django_filters
from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from crm.formstyle import StyledFormMixin
from crm.models import Membership, MembershipStatus, Tenant, User
from crm.search import search_text_q
from crm.validators import SANE_DATE_VALIDATORS
from crm.visibility import owner_scope
from leads.models import Campaign, Lead, LeadSource, LeadStatus, SourceKind

POOL_OWNER = "none"


# A search matching at most this many leads is narrowed to their ids (filter_search).
SEARCH_NARROW_CAP = 1000


def normalize_search(value: str) -> str:
    return " ".join((value or "").lower().split())


class LeadFilterForm(StyledFormMixin, forms.Form):
    pass


class _LazyChoices:
    """Choices read from the database on first use, once."""

    def __init__(self, load) -> None:  # type: ignore[no-untyped-def]
        self._load = load
        self._choices: list | None = None

    def _get(self) -> list:
        if self._choices is None:
            self._choices = list(self._load())
        return self._choices

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter(self._get())

    def __len__(self) -> int:
        return len(self._get())

    def __deepcopy__(self, memo: dict) -> _LazyChoices:
        # Form fields deep-copy their choices; the loader is bound to the FilterSet (and its request): share it.
        return self


def _is_set(value: Any) -> bool:
    """A cleaned filter value that filters something. An empty multiple-choice of records cleans to an empty
    QuerySet, not []; it is recognised without running it."""
    if isinstance(value, QuerySet):
        return not value.query.is_empty()
    return value not in (None, "", [])


# Filters that take several values. The filter bar's single selects send "" for "Any" (source=&campaign=), which
# a multiple choice field rejects as an unknown record: the whole filter set would be invalid and list nothing.
MULTI_VALUE_FILTERS = ("status", "source", "campaign")


def _without_blank_choices(data: Any) -> Any:
    if data is None or not hasattr(data, "getlist"):
        return data
    if not any(value == "" for name in MULTI_VALUE_FILTERS for value in data.getlist(name)):
        return data
    data = data.copy()
    for name in MULTI_VALUE_FILTERS:
        values = [value for value in data.getlist(name) if value != ""]
        if values:
            data.setlist(name, values)
        else:
            data.pop(name, None)
    return data


class LeadFilterSet(django_filters.FilterSet):
    # The multiple-choice filters match columns of the lead itself (no join that could repeat a row), so they
    # skip django-filter's default DISTINCT: SELECT DISTINCT sorts every matching row (a million) before LIMIT,
    # where without it the inbox walks its keyset index and stops after one page.
    q = django_filters.CharFilter(label=_("Search"), method="filter_search")
    status = django_filters.MultipleChoiceFilter(
        label=_("Status"), choices=LeadStatus.choices, widget=forms.SelectMultiple, distinct=False
    )
    source = django_filters.ModelMultipleChoiceFilter(
        label=_("Source"), queryset=LeadSource.objects.none(), widget=forms.SelectMultiple, distinct=False
    )
    source_kind = django_filters.ChoiceFilter(
        label=_("Source kind"), choices=SourceKind.choices, field_name="source__kind", empty_label=_("Any")
    )
    campaign = django_filters.ModelMultipleChoiceFilter(
        label=_("Campaign"), queryset=Campaign.objects.none(), widget=forms.SelectMultiple, distinct=False
    )
    owner = django_filters.ChoiceFilter(label=_("Owner"), method="filter_owner", empty_label=_("Anyone"))
    region = django_filters.CharFilter(label=_("Region"), field_name="region", lookup_expr="iexact")
    score_min = django_filters.NumberFilter(label=_("Score from"), field_name="score", lookup_expr="gte")
    score_max = django_filters.NumberFilter(label=_("Score to"), field_name="score", lookup_expr="lte")
    created_from = django_filters.DateFilter(
        validators=SANE_DATE_VALIDATORS,
        label=_("Created from"),
        method="filter_created_from",
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    created_to = django_filters.DateFilter(
        validators=SANE_DATE_VALIDATORS,
        label=_("Created to"),
        method="filter_created_to",
        widget=forms.DateInput(attrs={"type": "date"}),
    )

    class Meta:
        model = Lead
        fields: list[str] = []
        form = LeadFilterForm

    def __init__(
        self,
        data=None,  # type: ignore[no-untyped-def]
        queryset: QuerySet | None = None,
        *,
        tenant: Tenant | None = None,
        membership: Membership | None = None,
        request=None,  # type: ignore[no-untyped-def]
        narrow_search: bool = True,
        **kwargs,
    ) -> None:
        # Pages pass tenant and membership; the API's DjangoFilterBackend passes the request that carries them.
        tenant = tenant or getattr(request, "tenant", None)
        membership = membership or getattr(request, "membership", None)
        super().__init__(_without_blank_choices(data), queryset=queryset, request=request, **kwargs)
        self.tenant = tenant
        self.membership = membership
        self.narrow_search = narrow_search
        self.filters["source"].queryset = LeadSource.objects.filter(tenant=tenant, deleted_at=None).order_by(
            "name"
        )
        self.filters["campaign"].queryset = Campaign.objects.filter(tenant=tenant, deleted_at=None).order_by(
            "-start_date", "name"
        )
        # A callable: the member query runs only when the owner filter is used or rendered.
        self.filters["owner"].extra["choices"] = _LazyChoices(self._owner_choices)

    def _owner_choices(self) -> list[tuple[str, str]]:
        if self.membership is None:
            raise TypeError("the owner choices need the member (pages and API pass one)")
        members = Membership.objects.filter(tenant=self.tenant, status=MembershipStatus.ACTIVE)
        scope = owner_scope(self.membership)
        if scope is not None:
            members = members.filter(user_id__in=scope)
        users = User.objects.filter(pk__in=members.values("user_id")).order_by("full_name", "email")
        return [(POOL_OWNER, str(_("Nobody (pool)")))] + [(str(u.pk), u.display_name) for u in users]

    def filter_search(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        """Substring search in search_text. A term that matches few leads is narrowed to their ids first.

        Under row-level security PostgreSQL does not use the trigram index for LIKE (the operator is not
        leakproof), and it cannot tell a rare term from a common one: sorted by date, it would walk the date
        index and test a million rows one by one to find nothing (seconds). One bounded scan for the ids, then
        primary-key lookups, costs one pass at most (docs/scaling.md, "Search under row-level security")."""
        term = normalize_search(value)
        if not term:
            return queryset
        matched = queryset.filter(search_text_q(term))  # 张伟 also as stored, first name first: '伟 张'
        if not self.narrow_search:  # the caller narrows to the matching ids itself (lead_inbox_page)
            return matched
        ids = list(matched.order_by().values_list("pk", flat=True)[: SEARCH_NARROW_CAP + 1])
        return matched if len(ids) > SEARCH_NARROW_CAP else queryset.filter(pk__in=ids)

    def filter_owner(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        if value == POOL_OWNER:
            return queryset.filter(owner__isnull=True)
        return queryset.filter(owner_id=int(value))

    def _local_midnight(self, day: datetime.date) -> datetime.datetime:
        if self.tenant is None:
            raise TypeError("date filters need the tenant (pages and API pass one)")
        return datetime.datetime.combine(day, datetime.time.min, tzinfo=self.tenant.tzinfo)

    def filter_created_from(self, queryset: QuerySet, name: str, value: datetime.date) -> QuerySet:
        return queryset.filter(created_at__gte=self._local_midnight(value))

    def filter_created_to(self, queryset: QuerySet, name: str, value: datetime.date) -> QuerySet:
        return queryset.filter(created_at__lt=self._local_midnight(value + datetime.timedelta(days=1)))

    @property
    def active_count(self) -> int:
        """How many filters are set (the page shows it on the collapsed filter button)."""
        if not self.is_bound or not hasattr(self.form, "cleaned_data"):
            return 0
        return sum(1 for key, value in self.form.cleaned_data.items() if key != "q" and _is_set(value))
