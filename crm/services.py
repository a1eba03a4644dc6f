"""Writes of the tenancy core. Each takes the tenant and the acting user explicitly."""

from __future__ import annotations

import datetime
import secrets

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from crm.models import (
    RESERVED_SLUGS,
    ApiToken,
    Invitation,
    Membership,
    MembershipStatus,
    Role,
    Team,
    Tenant,
    User,
    hash_token,
)
from crm.signals import tenant_created, tenant_currency_changed
from crm.tenancy import tenant_context
from crm.validators import check_no_control_characters


def _validate_slug(slug: str) -> None:
    if slug in RESERVED_SLUGS:
        raise ValidationError({"slug": _("This address is reserved; choose another.")})
    if Tenant.objects.filter(slug=slug).exists():
        raise ValidationError({"slug": _("This address is taken; choose another.")})


@transaction.atomic
def tenant_create(
    *,
    slug: str,
    name: str,
    time_zone: str,
    currency: str,
    admin_email: str,
    admin_password: str | None,
    admin_name: str = "",
    default_locale: str = "en",
    fiscal_year_start_month: int = 1,
) -> Tenant:
    """Create a tenant and its first admin (a new user, or an existing one whose password matches).

    Side effects: sends `tenant_created` inside the tenant's context (the default pipeline is created there).
    """
    slug = slug.strip().lower()
    _validate_slug(slug)
    tenant = Tenant(
        slug=slug,
        name=name.strip(),
        time_zone=time_zone,
        currency=currency.upper(),
        default_locale=default_locale,
        fiscal_year_start_month=fiscal_year_start_month,
    )
    tenant.full_clean()
    tenant.save()
    email = admin_email.strip().lower()
    user = User.objects.filter(email=email).first()
    if user is None:
        user = User(email=email, full_name=admin_name, language=default_locale)
        user.set_password(admin_password)
        user.full_clean(exclude=["password"])
        user.save()
    elif admin_password is not None and not user.check_password(admin_password):
        raise ValidationError({"admin_password": _("This email already has an account; enter its password.")})
    with tenant_context(tenant):
        admin = Membership.objects.create(tenant=tenant, user=user, role=Role.ADMIN)
        tenant_created.send(sender=Tenant, tenant=tenant, admin=admin)
    return tenant


TENANT_SETTINGS = ("name", "time_zone", "currency", "fiscal_year_start_month", "default_locale")


def tenant_update_settings(*, tenant: Tenant, actor: User, **fields: object) -> Tenant:
    """Change the tenant's settings. A new reporting currency sends `tenant_currency_changed` in the same
    transaction (the deals area rebases the exchange rates and reprices every deal; it may refuse).

    On a ValidationError nothing is saved and `tenant` gets its saved values back."""
    # The saved values, not `tenant`'s: a ModelForm bound to the tenant has already set the new ones on it.
    stored = Tenant.objects.get(pk=tenant.pk)
    try:
        return _tenant_save_settings(tenant=tenant, stored=stored, actor=actor, fields=fields)
    except ValidationError:
        for key in TENANT_SETTINGS:
            setattr(tenant, key, getattr(stored, key))
        raise


@transaction.atomic
def _tenant_save_settings(
    *, tenant: Tenant, stored: Tenant, actor: User, fields: dict[str, object]
) -> Tenant:
    for key, value in fields.items():
        if key not in TENANT_SETTINGS:
            raise ValidationError({key: _("This setting cannot be changed here.")})
        setattr(tenant, key, value)
    tenant.currency = tenant.currency.upper()
    tenant.full_clean()
    tenant.save()
    if tenant.currency != stored.currency.upper():
        with tenant_context(tenant):
            tenant_currency_changed.send(
                sender=Tenant,
                tenant=tenant,
                actor=actor,
                old_currency=stored.currency.upper(),
                new_currency=tenant.currency,
            )
    return tenant


def team_get_or_create(*, tenant: Tenant, name: str | None) -> Team | None:
    if not name or not name.strip():
        return None
    team, _created = Team.objects.get_or_create(tenant=tenant, name=name.strip())
    return team


LOCAL_SITE_URL = "http://127.0.0.1:8000"


def invitation_url(invitation: Invitation, tenant: Tenant, *, base_url: str | None = None) -> str:
    """The absolute link that accepts an invitation: on settings.SITE_URL when the deployment names its address,
    else on the address the inviting request came to (`base_url`, e.g. request.build_absolute_uri("/"); its
    host is one of ALLOWED_HOSTS), else (a command, no request) the local development address."""
    path = reverse("crm:invitation-accept", kwargs={"slug": tenant.slug, "token": invitation.token})
    return (settings.SITE_URL or base_url or LOCAL_SITE_URL).rstrip("/") + path


def _send_invitation(*, tenant: Tenant, actor: User, invitation: Invitation, base_url: str | None) -> None:
    link = invitation_url(invitation, tenant, base_url=base_url)
    membership = invitation.membership
    with translation.override(tenant.default_locale):
        subject = _("You are invited to %(company)s on the CRM") % {"company": tenant.name}
        body = _("%(inviter)s invited you to join %(company)s as %(role)s.\n\nAccept: %(link)s\n") % {
            "inviter": actor.display_name,
            "company": tenant.name,
            "role": membership.get_role_display(),
            "link": link,
        }
    email = membership.user.email
    transaction.on_commit(lambda: send_mail(subject, body, None, [email], fail_silently=True))


@transaction.atomic
def member_invite(
    *,
    tenant: Tenant,
    actor: User,
    email: str,
    role: str,
    team_name: str | None = None,
    send_email: bool = True,
    base_url: str | None = None,
) -> tuple[Membership, Invitation]:
    """Add `email` as an invited member with a role and team (the team is created if new).

    Side effects: creates the user (without a usable password) when new, and emails the invitation link
    (invitation_url: SITE_URL, else `base_url`, the address the request came to).
    """
    email = User.objects.normalize_email(email.strip()).lower()
    errors = {}
    try:
        User(email=email).clean_fields(exclude=["password"])
    except ValidationError as exc:
        errors.update(exc.message_dict)
    if role not in Role.values:
        errors["role"] = [_("Unknown role.")]
    if errors:
        raise ValidationError(errors)
    user = User.objects.filter(email=email).first()
    if user is None:
        user = User(email=email, language=tenant.default_locale)
        user.set_unusable_password()
        user.save()
    membership = Membership.objects.filter(tenant=tenant, user=user).first()
    if membership is not None and membership.status == MembershipStatus.ACTIVE:
        raise ValidationError({"email": _("This person is already a member.")})
    team = team_get_or_create(tenant=tenant, name=team_name)
    if membership is None:
        membership = Membership(tenant=tenant, user=user)
    membership.role, membership.team, membership.status = role, team, MembershipStatus.INVITED
    membership.save()
    Invitation.objects.filter(tenant=tenant, membership=membership, accepted_at__isnull=True).delete()
    invitation = Invitation.objects.create(tenant=tenant, membership=membership, invited_by=actor)
    if send_email:
        _send_invitation(tenant=tenant, actor=actor, invitation=invitation, base_url=base_url)
    return membership, invitation


@transaction.atomic
def member_add_deactivated(
    *, tenant: Tenant, actor: User, email: str, role: str = Role.SALES_REP
) -> Membership:
    """A deactivated member with this email (an import's owner who left the company: their history keeps a name).
    An existing membership of the email is returned as it is. Side effects: creates the user without a usable
    password when the email is new; sends nothing (nobody is invited), and the person cannot log in here."""
    email = User.objects.normalize_email(email.strip()).lower()
    User(email=email).clean_fields(exclude=["password"])
    user = User.objects.filter(email=email).first()
    if user is None:
        user = User(email=email, language=tenant.default_locale)
        user.set_unusable_password()
        user.save()
    membership, _created = Membership.objects.get_or_create(
        tenant=tenant, user=user, defaults={"role": role, "status": MembershipStatus.DEACTIVATED}
    )
    return membership


@transaction.atomic
def invitation_accept(
    *,
    tenant: Tenant,
    invitation: Invitation,
    user: User | None,
    full_name: str = "",
    password: str | None = None,
) -> Membership:
    """Activate the invited membership. A new person sets a name and password; a person who already has an
    account must be logged in as that account."""
    membership = invitation.membership
    # A member deactivated while still invited must not reactivate themselves with the old link.
    if not invitation.is_open or membership.status != MembershipStatus.INVITED:
        raise ValidationError(_("This invitation has expired or was already used."))
    invitee = membership.user
    if user is not None and user.is_authenticated:
        if user.pk != invitee.pk:
            raise ValidationError(_("This invitation is for %(email)s.") % {"email": invitee.email})
    elif invitee.has_usable_password():
        raise ValidationError(_("This email already has an account: log in first, then open the link again."))
    else:
        if not password:
            raise ValidationError({"password": _("Choose a password.")})
        invitee.full_name = full_name.strip()
        invitee.set_password(password)
        invitee.save()
    membership.status = MembershipStatus.ACTIVE
    membership.save(update_fields=["status", "updated_at"])
    invitation.accepted_at = timezone.now()
    invitation.save(update_fields=["accepted_at", "updated_at"])
    return membership


def _ensure_an_admin_remains(tenant: Tenant, membership: Membership) -> None:
    others = Membership.objects.filter(
        tenant=tenant, role=Role.ADMIN, status=MembershipStatus.ACTIVE
    ).exclude(pk=membership.pk)
    if not others.exists():
        raise ValidationError(_("A tenant needs at least one active admin."))


@transaction.atomic
def membership_update(
    *,
    tenant: Tenant,
    actor: User,
    membership: Membership,
    role: str | None = None,
    team_name: str | None = None,
    status: str | None = None,
) -> Membership:
    """Change a member's role, team or status; the last active admin cannot be demoted or deactivated.

    Side effects: deactivating revokes the member's API tokens for this tenant.
    """
    if role is not None and role not in Role.values:
        raise ValidationError({"role": _("Unknown role.")})
    if status is not None and status not in MembershipStatus.values:
        raise ValidationError({"status": _("Unknown status.")})
    if status == MembershipStatus.ACTIVE and membership.status == MembershipStatus.INVITED:
        raise ValidationError({"status": _("An invited member becomes active by accepting the invitation.")})
    losing_admin = (
        membership.role == Role.ADMIN
        and membership.status == MembershipStatus.ACTIVE
        and ((role is not None and role != Role.ADMIN) or status == MembershipStatus.DEACTIVATED)
    )
    if losing_admin:
        _ensure_an_admin_remains(tenant, membership)
    if role is not None:
        membership.role = role
    if team_name is not None:
        membership.team = team_get_or_create(tenant=tenant, name=team_name)
    if status is not None:
        membership.status = status
    membership.save()
    if status == MembershipStatus.DEACTIVATED:
        ApiToken.objects.filter(tenant=tenant, user=membership.user).delete()
    return membership


# The lifetimes a token may be given (days); settings.API_TOKEN_DAYS is the default.
API_TOKEN_MAX_DAYS = 365


def api_token_create(*, tenant: Tenant, user: User, name: str = "", days: int | None = None) -> str:
    """Issue a new token for the user's membership in `tenant`, named after the device or script that will hold
    it, valid for `days` (default settings.API_TOKEN_DAYS, at most API_TOKEN_MAX_DAYS); only its hash is stored.
    Returns the key, which is shown once."""
    name = " ".join((name or "").split())
    if len(name) > 100:
        raise ValidationError({"name": _("Use at most 100 characters.")})
    check_no_control_characters(name, field="name")
    if days is None:
        days = settings.API_TOKEN_DAYS
    if not 1 <= days <= API_TOKEN_MAX_DAYS:
        raise ValidationError(
            {"expires_in_days": _("Choose from 1 to %(max)d days.") % {"max": API_TOKEN_MAX_DAYS}}
        )
    key = secrets.token_hex(20)
    now = timezone.now()
    ApiToken.objects.create(
        key_hash=hash_token(key),
        tenant=tenant,
        user=user,
        name=name,
        created_at=now,
        expires_at=now + datetime.timedelta(days=days),
    )
    return key


def api_token_revoke(*, tenant: Tenant, user: User, token_id: int) -> None:
    """Delete one of the user's own tokens in `tenant` (it stops working at once). ApiToken.DoesNotExist for
    any other id, another person's or another tenant's token included."""
    deleted, _rows = ApiToken.objects.filter(tenant=tenant, user=user, pk=token_id).delete()
    if not deleted:
        raise ApiToken.DoesNotExist


def user_set_language(*, user: User, language: str) -> None:
    if language not in dict(settings.LANGUAGES):
        raise ValidationError({"language": _("Unknown language.")})
    user.language = language
    user.save(update_fields=["language"])


def user_for_email(*, email: str) -> User:
    return User.objects.get(email=email.strip().lower())
