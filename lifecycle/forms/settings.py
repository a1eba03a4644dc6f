"""The lifecycle settings form (admins)."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from crm.formstyle import StyledForm
from lifecycle.models import MAX_WINDOW_DAYS


class LifecycleSettingsForm(StyledForm):
    onboarding_days = forms.IntegerField(
        label=_("Onboarding days"),
        min_value=1,
        max_value=MAX_WINDOW_DAYS,
        help_text=_("How long a new customer counts as onboarding (conversion)."),
    )
    grace_days = forms.IntegerField(
        label=_("Grace days"),
        min_value=0,
        max_value=MAX_WINDOW_DAYS,
        help_text=_("Days after the last subscription ends before the account churns."),
    )
    lapse_days = forms.IntegerField(
        label=_("Lapse days"),
        min_value=1,
        max_value=MAX_WINDOW_DAYS,
        help_text=_("A customer without subscriptions churns this many days after its last won deal."),
    )
    renewal_lead_days = forms.IntegerField(
        label=_("Renewal lead days"),
        min_value=1,
        max_value=MAX_WINDOW_DAYS,
        help_text=_("The renewal deal is created this many days before a subscription ends."),
    )
