"""The accounts, contacts and deals kinds of the global search (crm/search.py). Each reads through the
visibility querysets of its list page (accounts/selectors/visibility.py) and matches what that page's `q` search
matches, in one query: accounts and contacts by their search_text (name, domain; name, email, phone and its
digits), deals by their own or their account's name."""

from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from accounts.models import DEFAULT_STAGE_LABELS, Contact
from accounts.selectors.opportunities import opportunity_base
from accounts.selectors.visibility import account_queryset, contact_visibility_q
from crm.models import Membership, Tenant
from crm.names import person_name
from crm.search import SearchHit, SearchKind, SearchTerms, index_ids, name_flags

# The matching ids come from the search index (crm.search.index_ids: crm_search_entry through the SECURITY
# DEFINER function crm_search_ids, whose trigram and CJK indexes row-level security would not let PostgreSQL use
# on these tables; docs/scaling.md), the member's own records first; the visibility querysets of the list pages
# then decide among those few. No ORDER BY: crm.search.rank orders the few rows.


def _join(*parts: str) -> str:
    return " · ".join(part for part in parts if part)


def account_search(
    *, tenant: Tenant, membership: Membership, terms: SearchTerms, limit: int
) -> list[SearchHit]:
    matches = index_ids("account", terms, membership=membership, limit=limit)
    rows = (
        account_queryset(tenant=tenant, membership=membership)
        .filter(pk__in=matches)
        .order_by()
        .values_list("pk", "name", "domain", "industry", "region", "created_at")[:limit]
    )
    return [
        SearchHit(
            id=pk,
            title=name,
            subtitle=_join(domain, industry, region),
            url=reverse("accounts:account-detail", kwargs={"slug": tenant.slug, "pk": pk}),
            recency=created.timestamp(),
            **name_flags(name, terms),
        )
        for pk, name, domain, industry, region, created in rows
    ]


def contact_search(
    *, tenant: Tenant, membership: Membership, terms: SearchTerms, limit: int
) -> list[SearchHit]:
    candidates = index_ids("contact", terms, membership=membership, limit=limit)
    # contact_queryset's rule, with the visibility of only the candidates' accounts worked out.
    visible = contact_visibility_q(
        membership, among_accounts=Contact.objects.filter(pk__in=candidates).values("account_id")
    )
    contacts = Contact.objects.filter(tenant=tenant, deleted_at=None, pk__in=candidates)
    rows = (
        (contacts if visible is None else contacts.filter(visible))
        .order_by()
        .values_list("pk", "first_name", "last_name", "email", "phone", "account__name", "created_at")[:limit]
    )
    hits = []
    for pk, first, last, email, phone, account_name, created in rows:
        name = person_name(first, last)
        hits.append(
            SearchHit(
                id=pk,
                title=name or email or phone,
                subtitle=_join(account_name or "", email if name else "", phone),
                url=reverse("accounts:contact-detail", kwargs={"slug": tenant.slug, "pk": pk}),
                recency=created.timestamp(),
                **name_flags(name, terms),
            )
        )
    return hits


def deal_search(*, tenant: Tenant, membership: Membership, terms: SearchTerms, limit: int) -> list[SearchHit]:
    """The deal list's `q`: the deal's name or its account's name (here also its domain) contains the query,
    case-insensitive (the deal's search entry holds both: accounts migration 0009)."""
    matches = index_ids("deal", terms, membership=membership, limit=limit)
    rows = (
        opportunity_base(tenant=tenant, membership=membership)
        .filter(pk__in=matches)
        .order_by()
        .values_list("pk", "name", "account__name", "stage__name", "created_at")[:limit]
    )
    return [
        SearchHit(
            id=pk,
            title=name,
            subtitle=_join(account_name, str(DEFAULT_STAGE_LABELS.get(stage, stage))),
            url=reverse("accounts:opportunity-detail", kwargs={"slug": tenant.slug, "pk": pk}),
            recency=created.timestamp(),
            **name_flags(name, terms),
        )
        for pk, name, account_name, stage, created in rows
    ]


ACCOUNT_SEARCH = SearchKind(
    key="account",
    label=_("Accounts"),
    order=20,
    search=account_search,
    list_url_name="accounts:account-list",
    icon="building",
    has_phones=False,
)
CONTACT_SEARCH = SearchKind(
    key="contact",
    label=_("Contacts"),
    order=30,
    search=contact_search,
    list_url_name="accounts:contact-list",
    icon="person-vcard",
)
DEAL_SEARCH = SearchKind(
    key="deal",
    label=_("Deals"),
    order=40,
    search=deal_search,
    list_url_name="accounts:opportunity-list",
    icon="briefcase",
    has_phones=False,
)
