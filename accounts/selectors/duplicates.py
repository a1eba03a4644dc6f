"""Duplicate checks of accounts and contacts: the live records that look like the one being typed."""

from __future__ import annotations

from django.contrib.postgres.search import TrigramSimilarity, TrigramWordSimilarity
from django.db import models
from django.db.models import Q
from django.db.models.functions import Greatest, Upper

from accounts.models import Account, Contact
from accounts.selectors.visibility import account_visibility_q, contact_visibility_q
from crm.models import Membership, Tenant

# Trigram (word) similarity from which two company names count as a possible duplicate.
DUPLICATE_THRESHOLD = 0.72


def account_duplicates(
    *,
    tenant: Tenant,
    name: str,
    domain: str = "",
    exclude_id: int | None = None,
    membership: Membership | None = None,
    limit: int = 8,
) -> list[Account]:
    """Live accounts that look like the same company, best match first. Each carries `similarity` (0..1) and
    `same_domain`.

    Match: the same domain, or the normalized name (legal suffixes dropped, upper-cased) against upper(name) —
    candidates through the GIN trigram index (`%`, `%>` and, for names of 3+ characters, LIKE), kept when the
    trigram similarity or word similarity reaches DUPLICATE_THRESHOLD or the name contains the typed core
    (Chinese names have no word boundaries: "华信科技" in "上海华信科技有限公司").
    With `membership`, only accounts that member may see (pages and API pass it: an invisible record is never
    revealed); without, all of the tenant's (imports, lead conversion)."""
    from crm.normalize import normalize_company_name, normalize_domain

    core = normalize_company_name(name).upper()
    domain = normalize_domain(domain)
    use_name = len(core) >= 2
    if not use_name and not domain:
        return []
    qs = Account.objects.filter(tenant=tenant, deleted_at=None).alias(uname=Upper("name"))
    candidates = Q(pk__in=[])
    keep = Q(pk__in=[])
    if use_name:
        candidates |= Q(uname__trigram_similar=core) | Q(uname__trigram_word_similar=core)
        keep |= Q(score__gte=DUPLICATE_THRESHOLD)
        if len(core) >= 3:
            candidates |= Q(uname__contains=core)
            keep |= Q(uname__contains=core)
        qs = qs.alias(
            score=Greatest(TrigramSimilarity(Upper("name"), core), TrigramWordSimilarity(core, Upper("name")))
        )
    if domain:
        candidates |= Q(domain=domain)
        keep |= Q(domain=domain)
    qs = qs.filter(candidates).filter(keep)
    if exclude_id:
        qs = qs.exclude(pk=exclude_id)
    visible = account_visibility_q(membership) if membership is not None else None
    if visible is not None:
        qs = qs.filter(visible)
    qs = qs.annotate(
        similarity=models.F("score") if use_name else models.Value(0.0, output_field=models.FloatField()),
        same_domain=models.ExpressionWrapper(
            Q(domain=domain) if domain else Q(pk__in=[]), output_field=models.BooleanField()
        ),
    )
    return list(qs.select_related("owner").order_by("-same_domain", "-similarity", "name", "pk")[:limit])


def contact_duplicates(
    *,
    tenant: Tenant,
    email: str = "",
    phone: str = "",
    exclude_id: int | None = None,
    membership: Membership | None = None,
    limit: int = 10,
) -> list[Contact]:
    """Live contacts with the same email (case-insensitive) or the same phone digits (search_text holds the
    digits, behind the trigram index). Each carries `same_email` / `same_phone`. `membership` limits the
    result to contacts that member may see."""
    from crm.normalize import phone_digits

    email = (email or "").strip().lower()
    digits = phone_digits(phone)
    q = Q(pk__in=[])
    if email:
        q |= Q(email=email)
    if len(digits) >= 6:
        q |= Q(search_text__contains=digits)
    if not email and len(digits) < 6:
        return []
    qs = Contact.objects.filter(tenant=tenant, deleted_at=None).filter(q)
    if exclude_id:
        qs = qs.exclude(pk=exclude_id)
    visible = contact_visibility_q(membership) if membership is not None else None
    if visible is not None:
        qs = qs.filter(visible)
    found = list(qs.select_related("account", "owner").order_by("last_name", "first_name", "pk")[: limit * 3])
    result = []
    for contact in found:
        contact.same_email = bool(email) and contact.email.lower() == email
        contact.same_phone = len(digits) >= 6 and phone_digits(contact.phone) == digits
        if contact.same_email or contact.same_phone:
            result.append(contact)
    return result[:limit]
