"""The health settings form (weights, touch cadence per tier, at-risk threshold)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from crm.formstyle import StyledForm
from lifecycle.models import DEFAULT_TOUCH_CADENCE, HealthComponent


class HealthSettingsForm(StyledForm):
    at_risk_threshold = forms.IntegerField(label=_("At-risk threshold"), min_value=0, max_value=100)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name, label in HealthComponent.choices:
            self.fields[f"weight_{name}"] = forms.IntegerField(
                label=_("Weight: %(part)s") % {"part": label}, min_value=0, max_value=100
            )
        tier_labels = {
            "key": _("key"),
            "strategic": _("strategic"),
            "standard": _("standard"),
            "long_tail": _("long tail"),
        }
        for tier in DEFAULT_TOUCH_CADENCE:
            self.fields[f"cadence_{tier}"] = forms.IntegerField(
                label=_("Touch every … days: %(tier)s accounts") % {"tier": tier_labels[tier]},
                min_value=1,
                max_value=365,
            )
        for field in self.fields.values():
            field.widget.attrs.setdefault("class", "form-control")
