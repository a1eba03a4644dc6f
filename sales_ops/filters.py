"""django-filter FilterSet of the KPI rows, shared by the API and (later) the dashboard pages."""

from __future__ import annotations

import django_filters
from django.utils.translation import gettext_lazy as _

from crm.validators import SANE_DATE_VALIDATORS
from sales_ops.metrics import ALL_METRICS
from sales_ops.models import Dimension, Grain, KpiSnapshot


class KpiSnapshotFilter(django_filters.FilterSet):
    metric = django_filters.ChoiceFilter(choices=[(key, key) for key in ALL_METRICS], label=_("Metric"))
    grain = django_filters.ChoiceFilter(choices=Grain.choices, label=_("Grain"))
    period_start = django_filters.DateFilter(
        validators=SANE_DATE_VALIDATORS, label=_("Period start (local date, YYYY-MM-DD)")
    )
    dimension = django_filters.ChoiceFilter(choices=Dimension.choices, label=_("Dimension"))
    dimension_value = django_filters.CharFilter(label=_("Dimension value (empty for all)"))

    class Meta:
        model = KpiSnapshot
        fields = ["metric", "grain", "period_start", "dimension", "dimension_value"]
