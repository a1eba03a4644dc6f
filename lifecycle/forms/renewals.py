"""Forms of the renewals page and of a won renewal's next term."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.utils.translation import gettext_lazy as _

from crm.formstyle import StyledForm
from crm.models import Membership, Tenant, User
from lifecycle.forms.subscriptions import DATE
from lifecycle.services.renewals import NextTerm, renewal_assignable_owners


class NextTermForm(StyledForm):
    """The next term a won renewal proposes: pre-filled, editable, one click to accept."""

    plan = forms.CharField(label=_("Plan"), max_length=200, required=False)
    mrr = forms.DecimalField(label=_("MRR"), min_value=0, max_digits=14, decimal_places=2)
    currency = forms.CharField(label=_("Currency"), max_length=3)
    start_date = forms.DateField(label=_("Start date"), widget=forms.DateInput(attrs=DATE, format="%Y-%m-%d"))
    end_date = forms.DateField(
        label=_("End date"), required=False, widget=forms.DateInput(attrs=DATE, format="%Y-%m-%d")
    )

    @classmethod
    def for_proposal(cls, proposal: NextTerm, data: Any = None) -> NextTermForm:
        """The form pre-filled with a won renewal's proposal (the subscription page's and the deal page's)."""
        return cls(
            data,
            initial={
                "plan": proposal.plan,
                "mrr": proposal.mrr,
                "currency": proposal.currency,
                "start_date": proposal.start_date,
                "end_date": proposal.end_date,
            },
            prefix=f"next-{proposal.subscription.pk}",
        )


class RenewalAssignForm(StyledForm):
    """Bulk hand-over of renewal deals; the deal ids come as a list of checkboxes (`deal`)."""

    owner = forms.ModelChoiceField(
        label=_("New owner"), queryset=User.objects.none(), empty_label=_("Choose a person")
    )

    def __init__(self, *args: Any, tenant: Tenant, membership: Membership, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        allowed = renewal_assignable_owners(tenant=tenant, membership=membership).values("user_id")
        field = cast(forms.ModelChoiceField, self.fields["owner"])
        field.queryset = User.objects.filter(pk__in=allowed).order_by("full_name", "email")
        field.label_from_instance = lambda user: user.display_name  # type: ignore[method-assign,assignment]
