"""Duplicate checks of accounts and contacts: the live records that look like the one being typed."""

from __future__ import annotations

from django.contrib.postgres.search import TrigramSimilarity, TrigramWordSimilarity
from django.db import models
from django.db.models import Q
from django.db.models.functions import Greatest, Upper

from accounts.models import Account, Contact
from accounts.selectors.visibility import account_visibility_q, contact_visibility_q
from crm.models import Membership, Tenant

# Candidates per check: the accounts the trigram index finds nearest the typed name, of which
# crm.normalize.company_match keeps the same company (the same rule as the leads' duplicate check).
CANDIDATES = 50


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

    Match: the same domain, or the same company by crm.normalize.company_match between the company keys
    (legal suffixes and a Chinese name's region dropped, upper-cased: "北京字节跳动科技有限公司" is 字节跳动科技).
    Candidates come through the GIN trigram index on upper(name) (`%`, `%>` and, for keys of 3+ characters,
    LIKE: Chinese names have no word boundaries, "华信科技" is in "上海华信科技有限公司"), the CANDIDATES nearest
    first, then company_match decides. With `membership`, only accounts that member may see (pages and API pass
    it: an invisible record is never revealed); without, all of the tenant's (imports, lead conversion)."""
    from crm.normalize import company_key, company_match, normalize_domain

    core = company_key(name)
    domain = normalize_domain(domain)
    use_name = len(core) >= 2
    if not use_name and not domain:
        return []
    qs = Account.objects.filter(tenant=tenant, deleted_at=None).alias(uname=Upper("name"))
    candidates = Q(pk__in=[])
    if use_name:
        candidates |= Q(uname__trigram_similar=core) | Q(uname__trigram_word_similar=core)
        if len(core) >= 3:
            candidates |= Q(uname__contains=core)
        qs = qs.alias(
            score=Greatest(TrigramSimilarity(Upper("name"), core), TrigramWordSimilarity(core, Upper("name")))
        )
    if domain:
        candidates |= Q(domain=domain)
    qs = qs.filter(candidates)
    if exclude_id:
        qs = qs.exclude(pk=exclude_id)
    visible = account_visibility_q(membership) if membership is not None else None
    if visible is not None:
        qs = qs.filter(visible)
    qs = qs.annotate(
        same_domain=models.ExpressionWrapper(
            Q(domain=domain) if domain else Q(pk__in=[]), output_field=models.BooleanField()
        ),
    )
    order = ["-same_domain", "-score", "name", "pk"] if use_name else ["name", "pk"]
    found = []
    for account in qs.select_related("owner").order_by(*order)[:CANDIDATES]:
        score = company_match(company_key(account.name), core) if use_name else None
        if account.same_domain or score is not None:
            account.similarity = score or 0.0
            found.append(account)
    found.sort(key=lambda a: (not a.same_domain, -a.similarity, a.name, a.pk))
    return found[:limit]


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
