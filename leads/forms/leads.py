"""Forms of the lead pages. They parse input; choices come from the selectors, so a record the member cannot
see (or another tenant's) is never offered and a posted id of one is refused like a missing id."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from crm.formstyle import MoneyField, StyledForm, choice_field, model_choice_field
from crm.models import Membership, Tenant, User
from crm.value_lists import COMPANY_LIST_FIELDS, list_form_fields
from leads.models import Campaign, Lead, LeadSource, LeadStatus
from leads.selectors import leads as selectors

DATE_INPUT = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class OwnerChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: User) -> str:
        return obj.display_name


class LeadForm(StyledForm):
    """Create and edit. On create, an empty owner means "assign by the rules" (else the pool); on edit the owner
    changes through Assign. `version` carries optimistic locking; `confirm_duplicates` is set when the user saw
    the possible duplicates and saves anyway."""

    first_name = forms.CharField(label=_("First name"), max_length=100, required=False)
    last_name = forms.CharField(label=_("Last name"), max_length=100, required=False)
    company = forms.CharField(label=_("Company"), max_length=200, required=False)
    title = forms.CharField(label=_("Title"), max_length=120, required=False)
    email = forms.EmailField(label=_("Email"), required=False)
    phone = forms.CharField(label=_("Phone"), max_length=40, required=False)
    region = forms.CharField(label=_("Region"), max_length=100, required=False)
    industry = forms.CharField(label=_("Industry"), max_length=100, required=False)
    size_band = forms.CharField(label=_("Company size"), max_length=100, required=False)
    source = forms.ModelChoiceField(label=_("Source"), queryset=LeadSource.objects.none(), required=False)
    campaign = forms.ModelChoiceField(label=_("Campaign"), queryset=Campaign.objects.none(), required=False)
    external_id = forms.CharField(label=_("External id"), max_length=100, required=False)
    owner = OwnerChoiceField(
        label=_("Owner"),
        queryset=User.objects.none(),
        required=False,
        empty_label=_("Assign by the rules (or the pool)"),
    )
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)
    confirm_duplicates = forms.BooleanField(widget=forms.HiddenInput, required=False)

    DUPLICATE_FIELDS = ("email", "phone", "company")

    def __init__(
        self, *args: Any, tenant: Tenant, membership: Membership, lead: Lead | None = None, **kwargs: Any
    ) -> None:
        if lead is not None and "initial" not in kwargs:
            kwargs["initial"] = {
                **{name: getattr(lead, name) for name in self.base_fields if hasattr(lead, name)},
                "source": lead.source_id,
                "campaign": lead.campaign_id,
                "version": lead.version,
            }
        super().__init__(*args, **kwargs)
        self.lead = lead
        sources = LeadSource.objects.filter(tenant=tenant, deleted_at=None)
        campaigns = Campaign.objects.filter(tenant=tenant, deleted_at=None)
        if lead is not None:
            # Keep a retired source or campaign the lead already has selectable.
            sources = LeadSource.objects.filter(tenant=tenant).filter(
                pk__in=sources.values("pk").union(LeadSource.objects.filter(pk=lead.source_id).values("pk"))
            )
            campaigns = Campaign.objects.filter(tenant=tenant).filter(
                pk__in=campaigns.values("pk").union(Campaign.objects.filter(pk=lead.campaign_id).values("pk"))
            )
        # Region, industry and company size from the company's lists (the lead's own value stays selectable).
        list_form_fields(
            self,
            tenant=tenant,
            fields=COMPANY_LIST_FIELDS,
            current={name: getattr(lead, name) for name in COMPANY_LIST_FIELDS} if lead is not None else None,
        )
        model_choice_field(self.fields, "source").queryset = sources.order_by("name")
        model_choice_field(self.fields, "campaign").queryset = campaigns.order_by("-start_date", "name")
        if lead is None:
            model_choice_field(self.fields, "owner").queryset = selectors.owner_choices(
                tenant=tenant, membership=membership
            )
            if membership.role == "sales_rep":
                self.fields["owner"].initial = membership.user_id
        else:
            del self.fields["owner"]

    def lead_fields(self) -> dict[str, Any]:
        data = dict(self.cleaned_data)
        for name in ("owner", "version", "confirm_duplicates"):
            data.pop(name, None)
        return data


class StatusForm(StyledForm):
    status = forms.ChoiceField(
        label=_("Status"),
        choices=[(value, label) for value, label in LeadStatus.choices if value != LeadStatus.CONVERTED],
    )
    reason = forms.CharField(
        label=_("Reason (for disqualifying)"),
        max_length=200,
        required=False,
        widget=forms.TextInput(attrs={"placeholder": _("e.g. no budget, competitor, spam")}),
    )


class AssignForm(StyledForm):
    owner = OwnerChoiceField(
        label=_("Owner"),
        queryset=User.objects.none(),
        required=False,
        empty_label=_("Nobody: release to the pool"),
    )

    def __init__(self, *args: Any, tenant: Tenant, membership: Membership, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        model_choice_field(self.fields, "owner").queryset = selectors.owner_choices(
            tenant=tenant, membership=membership
        )


class BulkForm(StyledForm):
    """A bulk action on the ticked inbox rows (the view reads the `ids` list and resolves them through the
    selector: an id the member cannot see refuses the whole request like a missing one)."""

    ACTIONS = [("assign", _("Assign to")), ("status", _("Change status to"))]

    action = forms.ChoiceField(choices=ACTIONS)
    owner = OwnerChoiceField(
        label=_("Owner"), queryset=User.objects.none(), required=False, empty_label=_("Nobody (pool)")
    )
    status = forms.ChoiceField(
        label=_("Status"), choices=choice_field(StatusForm.base_fields, "status").choices, required=False
    )
    reason = forms.CharField(label=_("Reason"), max_length=200, required=False)

    def __init__(self, *args: Any, tenant: Tenant, membership: Membership, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        model_choice_field(self.fields, "owner").queryset = selectors.owner_choices(
            tenant=tenant, membership=membership
        )


class ConvertForm(StyledForm):
    """Convert: the account (new, or one of the suggestions/another visible account), the contact (new or a
    suggestion), and an optional deal."""

    account_choice = forms.CharField(required=False, widget=forms.HiddenInput)
    account_name = forms.CharField(label=_("New account name"), max_length=200, required=False)
    account_domain = forms.CharField(label=_("Domain"), max_length=200, required=False)
    contact_choice = forms.CharField(required=False, widget=forms.HiddenInput)
    no_deal = forms.BooleanField(label=_("Don't create a deal"), required=False)
    deal_name = forms.CharField(label=_("Deal name"), max_length=200, required=False)
    deal_amount = MoneyField(label=_("Amount"), required=False)
    deal_currency = forms.CharField(label=_("Currency"), max_length=3, required=False)
    deal_close_date = forms.DateField(label=_("Expected close date"), required=False, widget=DATE_INPUT)

    def clean_account_choice(self) -> str:
        value = (self.cleaned_data.get("account_choice") or "new").strip()
        if value != "new" and not value.isdecimal():
            raise forms.ValidationError(_("Choose an account."))
        return value

    def clean_contact_choice(self) -> str:
        value = (self.cleaned_data.get("contact_choice") or "new").strip()
        if value != "new" and not value.isdecimal():
            raise forms.ValidationError(_("Choose a contact."))
        return value

    def clean_deal_currency(self) -> str:
        return (self.cleaned_data.get("deal_currency") or "").strip().upper()


class MergeForm(StyledForm):
    other = forms.IntegerField(widget=forms.HiddenInput)
    keep = forms.ChoiceField(
        label=_("Which lead stays?"), choices=[("this", _("This lead")), ("other", _("The other lead"))]
    )


class LeadSettingsForm(StyledForm):
    pool_window_days = forms.IntegerField(
        label=_("Days without activity before a lead returns to the pool"), min_value=1, max_value=365
    )
    pool_claim_cap = forms.IntegerField(
        label=_("Open leads a rep may hold from the pool"), min_value=1, max_value=1000
    )
