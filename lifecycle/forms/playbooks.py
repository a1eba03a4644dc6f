"""The playbook template form."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from crm.formstyle import StyledForm
from lifecycle.models import PlaybookAssignee, PlaybookTrigger


class PlaybookTemplateForm(StyledForm):
    trigger = forms.ChoiceField(choices=PlaybookTrigger.choices, label=_("When"))
    subject = forms.CharField(label=_("Task subject"), max_length=200)
    due_in_days = forms.IntegerField(label=_("Due in (days)"), min_value=0, max_value=365, initial=3)
    assignee = forms.ChoiceField(choices=PlaybookAssignee.choices, label=_("Assign to"))
    is_active = forms.BooleanField(label=_("Active"), required=False, initial=True)
