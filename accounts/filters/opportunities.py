"""The deal filters, shared by the deal list, the board and the API (django-filter).

Choice lists come from the request's tenant and role: an owner, team, pipeline or stage the member cannot see is
not a valid choice, exactly like an id that does not exist.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import django_filters
from django import forms
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import ForecastCategory, Opportunity, OpportunityType, Pipeline, Stage, StageKind
from accounts.selectors.members import filter_member_choices, filter_team_choices
from crm.formstyle import StyledFormMixin
from crm.models import Membership, MembershipStatus, Team, Tenant, User
from crm.validators import SANE_DATE_VALIDATORS


class PeriodChoice:
    THIS_MONTH = "this_month"
    THIS_QUARTER = "this_quarter"
    NEXT_QUARTER = "next_quarter"
    CUSTOM = "custom"
    CHOICES = [
        (THIS_MONTH, _("This month")),
        (THIS_QUARTER, _("This quarter")),
        (NEXT_QUARTER, _("Next quarter")),
        (CUSTOM, _("Custom")),
    ]


def _add_months(day: dt.date, months: int) -> dt.date:
    index = day.year * 12 + (day.month - 1) + months
    return dt.date(index // 12, index % 12 + 1, 1)


def period_range(tenant: Tenant, period: str, today: dt.date | None = None) -> tuple[dt.date, dt.date] | None:
    """[start, end) local dates of a named period; quarters follow the tenant's fiscal year start month."""
    today = today or timezone.localtime(timezone.now(), tenant.tzinfo).date()
    month_start = today.replace(day=1)
    if period == PeriodChoice.THIS_MONTH:
        return month_start, _add_months(month_start, 1)
    if period in (PeriodChoice.THIS_QUARTER, PeriodChoice.NEXT_QUARTER):
        offset = (today.month - tenant.fiscal_year_start_month) % 3
        quarter_start = _add_months(month_start, -offset)
        if period == PeriodChoice.NEXT_QUARTER:
            quarter_start = _add_months(quarter_start, 3)
        return quarter_start, _add_months(quarter_start, 3)
    return None


def close_period_q(tenant: Tenant, start: dt.date | None, end: dt.date | None) -> Q:
    """Deals closing in [start, end): open deals by expected close date, closed deals by their close time."""
    open_q = Q(stage__kind=StageKind.OPEN)
    closed_q = ~Q(stage__kind=StageKind.OPEN)
    if start is not None:
        open_q &= Q(expected_close_date__gte=start)
        closed_q &= Q(closed_at__gte=dt.datetime.combine(start, dt.time.min, tzinfo=tenant.tzinfo))
    if end is not None:
        open_q &= Q(expected_close_date__lt=end)
        closed_q &= Q(closed_at__lt=dt.datetime.combine(end, dt.time.min, tzinfo=tenant.tzinfo))
    return open_q | closed_q


class StyledFilterForm(StyledFormMixin, forms.Form):
    pass


class OwnerChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: User) -> str:
        return obj.display_name


class OwnerFilter(django_filters.ModelChoiceFilter):
    field_class = OwnerChoiceField


class StageChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Stage) -> str:
        # The default pipeline's and stages' names in the reader's language; a tenant's own names as typed.
        return f"{obj.pipeline.label} · {obj.label}"


class StageFilter(django_filters.ModelChoiceFilter):
    field_class = StageChoiceField


class OpportunityFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(method="filter_q", label=_("Search"))
    pipeline = django_filters.ModelChoiceFilter(
        queryset=Pipeline.objects.none(), label=_("Pipeline"), empty_label=_("Any pipeline")
    )
    stage = StageFilter(queryset=Stage.objects.none(), label=_("Stage"), empty_label=_("Any stage"))
    status = django_filters.ChoiceFilter(
        choices=StageKind.choices, field_name="stage__kind", label=_("Status"), empty_label=_("Any status")
    )
    type = django_filters.ChoiceFilter(
        choices=OpportunityType.choices, label=_("Type"), empty_label=_("Any type")
    )
    forecast_category = django_filters.ChoiceFilter(
        choices=ForecastCategory.choices, label=_("Forecast category"), empty_label=_("Any category")
    )
    owner = OwnerFilter(queryset=User.objects.none(), label=_("Owner"), empty_label=_("Anyone"))
    team = django_filters.ModelChoiceFilter(
        queryset=Team.objects.none(), method="filter_team", label=_("Team"), empty_label=_("Any team")
    )
    account = django_filters.NumberFilter(field_name="account_id", label=_("Account"))
    lead = django_filters.NumberFilter(field_name="lead_id", label=_("Lead"))
    close = django_filters.ChoiceFilter(
        choices=PeriodChoice.CHOICES,
        method="filter_close",
        label=_("Close period"),
        empty_label=_("Any time"),
    )
    close_from = django_filters.DateFilter(
        validators=SANE_DATE_VALIDATORS,
        method="filter_noop",
        label=_("Closing from"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    close_to = django_filters.DateFilter(
        validators=SANE_DATE_VALIDATORS,
        method="filter_noop",
        label=_("Closing until"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    amount_min = django_filters.NumberFilter(
        field_name="amount_reporting", lookup_expr="gte", label=_("Amount from")
    )
    amount_max = django_filters.NumberFilter(
        field_name="amount_reporting", lookup_expr="lte", label=_("Amount up to")
    )

    class Meta:
        model = Opportunity
        fields: list[str] = []
        form = StyledFilterForm

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        request = self.request
        tenant = getattr(request, "tenant", None)
        membership: Membership | None = getattr(request, "membership", None)
        if tenant is None or membership is None:  # schema generation: the empty class-level choices
            return
        self.tenant = tenant
        self.filters["pipeline"].queryset = Pipeline.objects.filter(tenant=tenant).order_by(
            "-is_default", "order"
        )
        self.filters["stage"].queryset = (
            Stage.objects.filter(tenant=tenant)
            .select_related("pipeline")
            .order_by("-pipeline__is_default", "pipeline__order", "pipeline__name", "order")
        )
        members = filter_member_choices(tenant=tenant, membership=membership).filter(
            status=MembershipStatus.ACTIVE
        )
        self.filters["owner"].queryset = User.objects.filter(pk__in=members.values("user_id")).order_by(
            "full_name", "email"
        )
        self.filters["team"].queryset = filter_team_choices(tenant=tenant, membership=membership)

    def filter_q(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(Q(name__icontains=value) | Q(account__name__icontains=value))

    def filter_team(self, queryset: QuerySet, name: str, value: Any) -> QuerySet:
        if not value:
            return queryset
        members = Membership.objects.filter(tenant_id=value.tenant_id, team=value).values("user_id")
        return queryset.filter(owner_id__in=members)

    def filter_noop(self, queryset: QuerySet, name: str, value: Any) -> QuerySet:
        return queryset  # applied together with `close`

    def filter_close(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        tenant = self.tenant
        if value == PeriodChoice.CUSTOM:
            start = self.form.cleaned_data.get("close_from")
            end = self.form.cleaned_data.get("close_to")
            if start is None and end is None:
                return queryset
            return queryset.filter(close_period_q(tenant, start, end + dt.timedelta(days=1) if end else None))
        bounds = period_range(tenant, value)
        if bounds is None:
            return queryset
        return queryset.filter(close_period_q(tenant, *bounds))

    @property
    def is_filtered(self) -> bool:
        data = self.form.cleaned_data if self.form.is_bound and self.form.is_valid() else {}
        return any(value not in (None, "", []) for key, value in data.items())
