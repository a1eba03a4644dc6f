"""Reads of feedback: visible through the account (an account the member may not see has no feedback for them)."""

from __future__ import annotations

from django.db.models import QuerySet

from accounts.models import Account
from accounts.selectors.visibility import account_queryset
from crm.filtering import filterset_rows
from crm.models import Membership, Tenant
from lifecycle.models import Feedback

ACCOUNT_FEEDBACK_ROWS = 20


def feedback_queryset(*, tenant: Tenant, membership: Membership) -> QuerySet[Feedback]:
    visible = account_queryset(tenant=tenant, membership=membership).values("pk")
    return Feedback.objects.filter(tenant=tenant, account_id__in=visible)


def feedback_list(
    *, tenant: Tenant, membership: Membership, filters: dict | None = None
) -> QuerySet[Feedback]:
    """Visible feedback with account, contact and author; `filters` (a query dict) go through FeedbackFilterSet."""
    qs = feedback_queryset(tenant=tenant, membership=membership).select_related(
        "account", "contact", "created_by"
    )
    if filters:
        from lifecycle.filters.feedback import FeedbackFilterSet

        filterset = FeedbackFilterSet(filters, queryset=qs, tenant=tenant, membership=membership)
        qs = filterset_rows(filterset)
    return qs.order_by("-received_at", "-id")


def feedback_get(*, tenant: Tenant, membership: Membership, pk: int) -> Feedback:
    return feedback_list(tenant=tenant, membership=membership).get(pk=pk)


def feedback_for_account(*, tenant: Tenant, membership: Membership, account: Account) -> list[Feedback]:
    """The account's latest feedback (at most ACCOUNT_FEEDBACK_ROWS), for the account page's partial; one query."""
    return list(
        feedback_list(tenant=tenant, membership=membership).filter(account=account)[:ACCOUNT_FEEDBACK_ROWS]
    )


def feedback_for_contact(*, tenant: Tenant, membership: Membership, contact_id: int) -> list[Feedback]:
    return list(
        feedback_list(tenant=tenant, membership=membership).filter(contact_id=contact_id)[
            :ACCOUNT_FEEDBACK_ROWS
        ]
    )


def can_edit_feedback(membership: Membership) -> bool:
    """DESIGN.md: cs edits feedback (of the customer accounts they see); admins everything."""
    from crm.models import Role

    return membership.role in {Role.ADMIN, Role.CS}
