from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib.auth import password_validation
from django.contrib.auth.forms import AuthenticationForm
from django.utils.dates import MONTHS
from django.utils.translation import gettext_lazy as _

from crm.formstyle import StyledForm, StyledFormMixin, StyledModelForm
from crm.models import SLUG_VALIDATOR, Membership, MembershipStatus, Role, Tenant, time_zone_choices

CURRENCY_CHOICES = [
    ("CNY", _("CNY — Chinese yuan")),
    ("USD", _("USD — US dollar")),
    ("EUR", _("EUR — Euro")),
    ("GBP", _("GBP — Pound sterling")),
    ("JPY", _("JPY — Japanese yen")),
    ("HKD", _("HKD — Hong Kong dollar")),
    ("SGD", _("SGD — Singapore dollar")),
]
MONTH_CHOICES = sorted(MONTHS.items())  # (1, "January") … (12, "December"), translated


class EmailLoginForm(StyledFormMixin, AuthenticationForm):
    username = forms.EmailField(
        label=_("Email"), widget=forms.EmailInput(attrs={"autofocus": True, "autocomplete": "email"})
    )

    def clean_username(self) -> str:
        # Emails are stored lower-case (UserManager, sign-up, invitations); match how people type them.
        return self.cleaned_data["username"].strip().lower()


class CompanySignupForm(StyledForm):
    """A new company for someone already logged in: the company only; they become its admin."""

    company_name = forms.CharField(
        label=_("Company name"), max_length=200, widget=forms.TextInput(attrs={"autofocus": True})
    )
    slug = forms.CharField(
        label=_("Address"),
        max_length=40,
        validators=[SLUG_VALIDATOR],
        help_text=_("Your workspace lives at /t/<address>/: lower-case letters, digits and hyphens."),
    )
    time_zone = forms.ChoiceField(label=_("Time zone"), choices=time_zone_choices, initial="Asia/Shanghai")
    currency = forms.ChoiceField(label=_("Reporting currency"), choices=CURRENCY_CHOICES, initial="CNY")
    default_locale = forms.ChoiceField(label=_("Default language"), choices=settings.LANGUAGES, initial="en")

    SETTINGS_FIELDS = ("time_zone", "currency", "default_locale")

    @classmethod
    def initial_from(cls, tenant: Tenant | None) -> dict[str, str]:
        """The settings of the company the user comes from: a second company usually shares them."""
        if tenant is None:
            return {}
        return {
            "time_zone": tenant.time_zone,
            "currency": tenant.currency,
            "default_locale": tenant.default_locale,
        }

    def clean_slug(self) -> str:
        return self.cleaned_data["slug"].strip().lower()


class SignupForm(CompanySignupForm):
    """Sign-up of a new company and its first admin (a new account, or an existing one with its password)."""

    admin_name = forms.CharField(label=_("Your name"), max_length=200)
    admin_email = forms.EmailField(label=_("Your work email"))
    admin_password = forms.CharField(
        label=_("Password"), widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}), strip=False
    )

    def clean_admin_password(self) -> str:
        password = self.cleaned_data["admin_password"]
        password_validation.validate_password(password)
        return password


class InviteForm(StyledForm):
    email = forms.EmailField(label=_("Email"))
    role = forms.ChoiceField(label=_("Role"), choices=Role.choices, initial=Role.SALES_REP)
    team = forms.CharField(
        label=_("Team"), max_length=100, required=False, help_text=_("A new name creates the team.")
    )


class MembershipForm(StyledForm):
    role = forms.ChoiceField(label=_("Role"), choices=Role.choices)
    team = forms.CharField(label=_("Team"), max_length=100, required=False)
    status = forms.ChoiceField(label=_("Status"), choices=MembershipStatus.choices)

    @classmethod
    def for_membership(cls, membership: Membership, data: object = None) -> MembershipForm:
        initial = {
            "role": membership.role,
            "team": membership.team.name if membership.team else "",
            "status": membership.status,
        }
        return cls(data=data, initial=initial)


class TenantSettingsForm(StyledModelForm):
    time_zone = forms.ChoiceField(label=_("Time zone"), choices=time_zone_choices)
    currency = forms.ChoiceField(label=_("Reporting currency"), choices=CURRENCY_CHOICES)
    fiscal_year_start_month = forms.TypedChoiceField(
        label=_("Fiscal year starts in month"), choices=MONTH_CHOICES, coerce=int
    )
    default_locale = forms.ChoiceField(label=_("Default language"), choices=settings.LANGUAGES)

    class Meta:
        model = Tenant
        fields = ["name", "time_zone", "currency", "fiscal_year_start_month", "default_locale"]


class AcceptInvitationForm(StyledForm):
    full_name = forms.CharField(label=_("Your name"), max_length=200)
    password = forms.CharField(
        label=_("Password"), widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}), strip=False
    )

    def clean_password(self) -> str:
        password = self.cleaned_data["password"]
        password_validation.validate_password(password)
        return password
