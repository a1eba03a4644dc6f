"""Forms of the customer-success pages: feedback, health settings, playbook templates, survey links. Fields only;
the rules live in the services (their ValidationError lands on these forms through crm.viewutils)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.models import Account, Contact
from accounts.selectors.accounts import account_choices
from crm.formstyle import StyledForm
from crm.models import Membership, Tenant
from lifecycle.models import (
    DEFAULT_TOUCH_CADENCE,
    FeedbackChannel,
    FeedbackKind,
    HealthComponent,
    PlaybookAssignee,
    PlaybookTrigger,
)


class FeedbackForm(StyledForm):
    account = forms.ModelChoiceField(queryset=Account.objects.none(), label=_("Account"))
    contact = forms.ModelChoiceField(queryset=Contact.objects.none(), label=_("Contact"), required=False)
    kind = forms.ChoiceField(choices=FeedbackKind.choices, label=_("Kind"))
    score = forms.IntegerField(label=_("Score"), min_value=0, max_value=10)
    channel = forms.ChoiceField(
        choices=[c for c in FeedbackChannel.choices if c[0] not in {"import", "api", "survey"}],
        label=_("Channel"),
        initial=FeedbackChannel.CALL,
    )
    received_at = forms.DateTimeField(
        label=_("Received at"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        help_text=_("Empty: now."),
    )
    comment = forms.CharField(label=_("Comment"), required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(
        self,
        *args: Any,
        tenant: Tenant,
        membership: Membership,
        account: Account | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        accounts = account_choices(tenant=tenant, membership=membership)
        fields = self.fields
        fields["account"].queryset = accounts  # type: ignore[attr-defined]
        contacts = Contact.objects.filter(
            tenant=tenant, deleted_at=None, account_id__in=accounts.values("pk")
        )
        if account is not None:
            contacts = contacts.filter(account=account)
            fields["account"].initial = account.pk
            fields["account"].widget = forms.HiddenInput()
        fields["contact"].queryset = contacts.order_by("last_name", "first_name", "pk")  # type: ignore[attr-defined]


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


class PlaybookTemplateForm(StyledForm):
    trigger = forms.ChoiceField(choices=PlaybookTrigger.choices, label=_("When"))
    subject = forms.CharField(label=_("Task subject"), max_length=200)
    due_in_days = forms.IntegerField(label=_("Due in (days)"), min_value=0, max_value=365, initial=3)
    assignee = forms.ChoiceField(choices=PlaybookAssignee.choices, label=_("Assign to"))
    is_active = forms.BooleanField(label=_("Active"), required=False, initial=True)


class SurveyLinkForm(StyledForm):
    kind = forms.ChoiceField(choices=FeedbackKind.choices, label=_("Question"))


class SurveyAnswerForm(forms.Form):
    score = forms.IntegerField(min_value=0, max_value=10)
    comment = forms.CharField(required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 3}))
