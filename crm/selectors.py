"""Reads of the tenancy core."""

from __future__ import annotations

from django.db.models import QuerySet

from crm.models import ApiToken, Invitation, Membership, MembershipStatus, Team, Tenant, User
from crm.tenancy import user_scope


def memberships_for_user(*, user: User) -> list[Membership]:
    """All active memberships of a user across tenants (RLS lets a user see their own)."""
    with user_scope(user.pk):
        return list(
            Membership.all_tenants.filter(user=user, status=MembershipStatus.ACTIVE, tenant__is_active=True)
            .select_related("tenant")
            .order_by("tenant__name")
        )


def member_list(*, tenant: Tenant) -> QuerySet[Membership]:
    return Membership.objects.filter(tenant=tenant).select_related("user", "team").order_by("user__email")


def membership_get(*, tenant: Tenant, pk: int) -> Membership:
    return Membership.objects.select_related("user", "team").get(tenant=tenant, pk=pk)


def open_invitations(*, tenant: Tenant) -> QuerySet[Invitation]:
    return Invitation.objects.filter(tenant=tenant, accepted_at__isnull=True).select_related(
        "membership__user", "membership__team", "invited_by"
    )


def team_list(*, tenant: Tenant) -> QuerySet[Team]:
    return Team.objects.filter(tenant=tenant).order_by("name")


def invitation_by_token(*, tenant: Tenant, token: str) -> Invitation:
    return Invitation.objects.select_related("membership__user", "membership__team").get(
        tenant=tenant, token=token
    )


def api_tokens_for(*, tenant: Tenant, user: User) -> QuerySet[ApiToken]:
    return ApiToken.objects.filter(tenant=tenant, user=user).order_by("-created_at")


def user_find(*, email: str) -> User | None:
    """The account with this email (emails are stored lower-cased), or None."""
    return User.objects.filter(email=email.strip().lower()).first()
