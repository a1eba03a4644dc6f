"""Per-contact survey links: a customer answers one NPS or CSAT question without logging in.

The token is django.core.signing with its own salt over (tenant id, contact id, kind, nonce): nothing in it can be
changed without the secret key, so a link can only ever name the contact it was made for, in that contact's
tenant. It expires after SURVEY_MAX_AGE. One answer per link: the answer stores the nonce, unique per tenant in
the database, so a second answer (even two at once) is refused.
"""

from __future__ import annotations

import datetime
import secrets
from dataclasses import dataclass

from django.core import signing
from django.db import IntegrityError, transaction

from accounts.models import Contact
from crm.models import Tenant
from lifecycle.models import Feedback, FeedbackChannel, FeedbackKind
from lifecycle.services.feedback import feedback_create

SURVEY_SALT = "lifecycle.survey.v1"
SURVEY_MAX_AGE = datetime.timedelta(days=30)


class SurveyLinkError(Exception):
    """A survey link that cannot be answered: `reason` is "invalid", "expired" or "used"."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class SurveyLink:
    tenant_id: int
    contact_id: int
    kind: str
    nonce: str


def survey_link_make(*, tenant: Tenant, contact: Contact, kind: str) -> str:
    """A new signed token for `contact` (who must belong to an account) and `kind` (nps or csat)."""
    if contact.tenant_id != tenant.pk or not contact.account_id:
        raise Contact.DoesNotExist
    if kind not in FeedbackKind.values:
        raise ValueError(kind)
    payload = {"t": tenant.pk, "c": contact.pk, "k": kind, "n": secrets.token_urlsafe(12)}
    return signing.dumps(payload, salt=SURVEY_SALT, compress=True)


def survey_link_read(token: str) -> SurveyLink:
    """The link's content; SurveyLinkError("invalid") for a tampered or malformed token, ("expired") when old."""
    try:
        payload = signing.loads(token, salt=SURVEY_SALT, max_age=SURVEY_MAX_AGE)
    except signing.SignatureExpired as exc:
        raise SurveyLinkError("expired") from exc
    except (signing.BadSignature, ValueError, TypeError) as exc:
        raise SurveyLinkError("invalid") from exc
    try:
        link = SurveyLink(
            tenant_id=int(payload["t"]),
            contact_id=int(payload["c"]),
            kind=str(payload["k"]),
            nonce=str(payload["n"]),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise SurveyLinkError("invalid") from exc
    if link.kind not in FeedbackKind.values or not link.nonce:
        raise SurveyLinkError("invalid")
    return link


def survey_link_used(*, tenant: Tenant, link: SurveyLink) -> bool:
    return Feedback.objects.filter(tenant=tenant, survey_nonce=link.nonce).exists()


def survey_answer(*, tenant: Tenant, link: SurveyLink, score: object, comment: str = "") -> Feedback:
    """Record the customer's answer (channel survey, no actor). SurveyLinkError("used") when the link was answered
    already, ("invalid") when its contact is gone; ValidationError for a score out of range."""
    if link.tenant_id != tenant.pk:
        raise SurveyLinkError("invalid")
    contact = (
        Contact.objects.filter(tenant=tenant, pk=link.contact_id, deleted_at=None)
        .select_related("account")
        .first()
    )
    if contact is None or contact.account is None or contact.account.deleted_at is not None:
        raise SurveyLinkError("invalid")
    if survey_link_used(tenant=tenant, link=link):
        raise SurveyLinkError("used")
    try:
        with transaction.atomic():
            return feedback_create(
                tenant=tenant,
                actor=None,
                account=contact.account,
                contact=contact,
                kind=link.kind,
                score=score,
                comment=(comment or "")[:2000],
                channel=FeedbackChannel.SURVEY,
                survey_nonce=link.nonce,
            )
    except IntegrityError as exc:
        raise SurveyLinkError("used") from exc
