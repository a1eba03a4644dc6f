"""The quick form that logs an activity or a task on a record's page."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.models import MAX_CALL_MINUTES, ActivityKind, CallOutcome
from crm.formstyle import StyledForm

DATETIME_LOCAL = "%Y-%m-%dT%H:%M"


class ActivityQuickForm(StyledForm):
    """The quick-log partial: kind, subject, optional notes and due date, plus hidden target ids."""

    kind = forms.ChoiceField(label=_("Kind"), choices=ActivityKind.choices, initial=ActivityKind.CALL)
    subject = forms.CharField(label=_("Subject"), max_length=200, required=False)
    outcome = forms.ChoiceField(label=_("Outcome"), choices=[("", "—"), *CallOutcome.choices], required=False)
    duration_minutes = forms.IntegerField(
        label=_("Minutes"), min_value=0, max_value=MAX_CALL_MINUTES, required=False
    )
    body = forms.CharField(label=_("Notes"), required=False, widget=forms.Textarea(attrs={"rows": 2}))
    due_at = forms.DateTimeField(
        label=_("Due"),
        required=False,
        input_formats=[DATETIME_LOCAL, "%Y-%m-%d %H:%M", "%Y-%m-%d"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format=DATETIME_LOCAL),
    )
    lead = forms.IntegerField(required=False, widget=forms.HiddenInput)
    account = forms.IntegerField(required=False, widget=forms.HiddenInput)
    contact = forms.IntegerField(required=False, widget=forms.HiddenInput)
    opportunity = forms.IntegerField(required=False, widget=forms.HiddenInput)
    timeline_id = forms.SlugField(required=False, widget=forms.HiddenInput)

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        if not any(data.get(name) for name in ("lead", "account", "contact", "opportunity")):
            raise forms.ValidationError(_("Log the activity on a lead, account, contact or deal."))
        if data.get("kind") != ActivityKind.CALL:
            # The call fields are hidden for other kinds; what they still hold is not part of a note or task.
            data["outcome"] = ""
            data["duration_minutes"] = None
            for name in ("outcome", "duration_minutes"):
                self.errors.pop(name, None)
        if data.get("kind") == ActivityKind.TASK and not data.get("subject"):
            self.add_error("subject", _("Say what needs to be done."))
        elif (
            not (data.get("subject") or "").strip()
            and not (data.get("body") or "").strip()
            and not data.get("outcome")
        ):
            # A click on Log with nothing typed is not a call that happened.
            self.add_error("subject", _("Say what happened: type a subject or notes."))
        return data
