"""Lead duplicates: the keys (normalized company, phone tail) and the candidates of one lead, visible to the member."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Q, QuerySet

from crm.models import Membership, Tenant
from crm.normalize import COMPANY_MIN_CHARS, company_key, company_match, phone_digits
from leads.models import Lead
from leads.selectors.leads import lead_visibility_q

PHONE_TAIL_DIGITS = 7


def phone_tail(phone: str) -> str:
    """The duplicate key of a phone: its last seven digits ("" for fewer). Two numbers where one ends with the
    other (with or without the country code, 7+ digits) share it; _same_phone then confirms the match."""
    digits = phone_digits(phone)
    return digits[-PHONE_TAIL_DIGITS:] if len(digits) >= PHONE_TAIL_DIGITS else ""


def _same_phone(a: str, b: str) -> bool:
    """Same number, with or without the country code."""
    if not a or not b:
        return False
    short, long = sorted((a, b), key=len)
    return long.endswith(short) and len(short) >= PHONE_TAIL_DIGITS


# Company names are compared when their normalized form has 3+ characters. Candidates are the leads whose
# company_key shares the name's first word (CJK names: the first two characters), read as two bounded index
# ranges around the name itself (COMPANY_WINDOW keys on each side); crm.normalize.company_match then decides
# (the same rule as accounts' duplicate check) and gives the similarity they are ranked by.
COMPANY_WINDOW = 100


def _company_range(core: str) -> tuple[str, str]:
    """[start, stop) of the company keys that share `core`'s first word (C collation: code point order)."""
    prefix = core.split(" ", 1)[0]
    if not prefix.isascii():
        prefix = prefix[:2]
    elif len(prefix) < COMPANY_MIN_CHARS:
        prefix = core[:COMPANY_MIN_CHARS]
    return prefix, prefix[:-1] + chr(ord(prefix[-1]) + 1)


def _company_matches(qs: QuerySet[Lead], core: str) -> dict[int, float]:
    """{id: similarity} of the leads among the up to 2 x COMPANY_WINDOW whose company_key is nearest to `core`
    within its first word's range that company_match takes for the same company: one query, two
    backward/forward walks of the (tenant, company_key) index."""
    start, stop = _company_range(core)
    before = qs.filter(company_key__gte=start, company_key__lt=core).order_by("-company_key")
    after = qs.filter(company_key__gte=core, company_key__lt=stop).order_by("company_key")
    window = before.values_list("pk", "company_key")[:COMPANY_WINDOW].union(
        after.values_list("pk", "company_key")[:COMPANY_WINDOW], all=True
    )
    matches = {}
    for pk, key in window:
        score = company_match(key, core)
        if score is not None:
            matches[pk] = score
    return matches


@dataclass
class LeadDuplicate:
    lead: Lead
    same_email: bool
    same_phone: bool
    similarity: float
    visible: bool = True


def lead_duplicates(
    *,
    tenant: Tenant,
    membership: Membership | None,
    email: str = "",
    phone: str = "",
    company: str = "",
    exclude_id: int | None = None,
    limit: int = 8,
) -> list[LeadDuplicate]:
    """Live leads the member may see that look like the same person or company: the same email (stored
    lower-cased), the same phone (its last seven digits, then a suffix check), or the same company by
    crm.normalize.company_match among the bounded candidates of _company_matches.

    Invisible leads are never found (DESIGN.md: they behave as if they did not exist), as for accounts and
    contacts; `membership=None` (system callers) searches the whole tenant. Every lookup is an index range
    under row-level security: one query, two when a company name is given."""
    email = (email or "").strip().lower()
    digits = phone_digits(phone)
    tail = phone_tail(phone)
    core = company_key(company)[:200]
    use_company = len(core) >= COMPANY_MIN_CHARS
    if not email and not tail and not use_company:
        return []
    qs = Lead.objects.filter(tenant=tenant, deleted_at=None)
    visible_q = lead_visibility_q(membership) if membership is not None else None
    if visible_q is not None:
        qs = qs.filter(visible_q)
    if exclude_id:
        qs = qs.exclude(pk=exclude_id)
    q = Q(pk__in=[])
    if email:
        q |= Q(email=email)
    if tail:
        q |= Q(phone_tail=tail)
    companies: dict[int, float] = {}
    if use_company:
        companies = _company_matches(qs, core)
        if companies:
            q |= Q(pk__in=list(companies))
    # Every company match (at most 2 x COMPANY_WINDOW) comes back, so the ranking below sees all of them.
    found = list(
        qs.filter(q).select_related("owner").order_by("-created_at", "-pk")[: limit * 3 + len(companies)]
    )
    result = []
    for lead in found:
        same_email = bool(email) and lead.email == email
        same_phone = bool(tail) and _same_phone(phone_digits(lead.phone), digits)
        similarity = companies.get(lead.pk, 0.0)
        if same_email or same_phone or lead.pk in companies:
            result.append(LeadDuplicate(lead, same_email, same_phone, similarity))
    result.sort(key=lambda d: (not d.same_email, not d.same_phone, -d.similarity, -d.lead.pk))
    return result[:limit]
