"""Survey forms: the link a CS member makes for a contact, and the customer's answer."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from crm.formstyle import StyledForm
from lifecycle.models import FeedbackKind


class SurveyLinkForm(StyledForm):
    kind = forms.ChoiceField(choices=FeedbackKind.choices, label=_("Question"))


class SurveyAnswerForm(forms.Form):
    score = forms.IntegerField(min_value=0, max_value=10)
    comment = forms.CharField(
        required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 3, "class": "form-control"})
    )
