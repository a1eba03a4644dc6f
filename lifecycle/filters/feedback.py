"""The FeedbackFilterSet shared by the feedback page and the API: kind, account (visible ones only: another
tenant's or an invisible id is refused like a missing one), received between two dates."""

from __future__ import annotations

from typing import Any

import django_filters
from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.models import Account
from accounts.selectors.visibility import account_queryset
from crm.formstyle import StyledForm
from crm.pagination import CursorPagination
from crm.validators import SANE_DATE_VALIDATORS
from crm.widgets import ChosenOnlySelect
from lifecycle.models import Feedback, FeedbackKind


class FeedbackFilterForm(StyledForm):
    pass


class FeedbackFilterSet(django_filters.FilterSet):
    kind = django_filters.ChoiceFilter(choices=FeedbackKind.choices, label=_("Kind"), empty_label=_("Any"))
    account = django_filters.ModelChoiceFilter(
        queryset=Account.objects.none(), label=_("Account"), empty_label=_("Any"), widget=ChosenOnlySelect
    )
    account_name = django_filters.CharFilter(
        label=_("Account name"), field_name="account__name", lookup_expr="icontains"
    )
    received_after = django_filters.DateFilter(
        validators=SANE_DATE_VALIDATORS,
        field_name="received_at",
        lookup_expr="date__gte",
        label=_("Received from"),
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    received_before = django_filters.DateFilter(
        validators=SANE_DATE_VALIDATORS,
        field_name="received_at",
        lookup_expr="date__lte",
        label=_("Received until"),
        widget=forms.DateInput(attrs={"type": "date"}),
    )

    class Meta:
        model = Feedback
        fields = ["kind", "account", "account_name", "received_after", "received_before"]
        form = FeedbackFilterForm

    def __init__(self, *args: Any, tenant: Any = None, membership: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if tenant is None and self.request is not None:
            tenant = getattr(self.request, "tenant", None)
            membership = getattr(self.request, "membership", None)
        if tenant is not None and membership is not None:
            self.filters["account"].queryset = account_queryset(tenant=tenant, membership=membership)


class FeedbackCursorPagination(CursorPagination):
    ordering = ("-received_at", "-id")  # type: ignore[assignment]  # DRF takes a tuple of fields; the stubs say str
