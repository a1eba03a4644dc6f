"""The leads kind of the global search (crm/search.py): visible leads whose search_text holds the query."""

from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from crm.models import Membership, Role, Tenant
from crm.names import person_name
from crm.search import SearchHit, SearchKind, SearchTerms, index_ids, name_flags, search_text_q
from leads.models import Lead, LeadStatus
from leads.selectors.duplicates import phone_tail
from leads.selectors.leads import LEAD_ROLES, lead_queryset


def lead_search(*, tenant: Tenant, membership: Membership, terms: SearchTerms, limit: int) -> list[SearchHit]:
    """Up to `limit` leads the member may see (lead_queryset: the inbox's and the lead page's rule) whose name,
    company, email, phone or phone digits contain the query (the lead's search_text, as the inbox's `q`), in one
    query.

    The matching ids come from the search index (crm.search.index_ids: crm_search_entry's trigram and CJK
    indexes, which row-level security would not let PostgreSQL use on leads_lead itself; docs/scaling.md): for a
    rep or a manager, the matches they own (or their team owns) and the pool's, so colleagues' leads never crowd
    theirs out. lead_queryset then decides, and the few rows are read by primary key and ranked in Python
    (crm.search.rank). A phone number of seven digits or more is looked up by its last seven digits instead, as the
    duplicate check reads it (leads_lead_phone_tail_idx: an equality, which row-level security lets an index
    serve), so it finds the leads whose number ends with it."""
    visible = lead_queryset(tenant=tenant, membership=membership)
    tail = phone_tail(terms.digits)
    if tail:  # the number as typed ends the lead's number (its full digits or without the country code)
        visible = visible.filter(phone_tail=tail).filter(search_text_q(terms.needle))
    else:
        visible = visible.filter(
            pk__in=index_ids("lead", terms, membership=membership, limit=limit, unowned=True, others=0)
        )
    ids = visible.order_by().values("pk")[:limit]
    rows = (
        Lead.objects.filter(tenant=tenant, pk__in=ids)
        .order_by()
        .values_list("pk", "first_name", "last_name", "company", "email", "phone", "status", "created_at")
    )
    hits = []
    for pk, first, last, company, email, phone, status, created in rows:
        name = person_name(first, last)
        title = name or company or email or phone
        details = [part for part in (company if name else "", email, phone) if part and part != title]
        details.append(str(LeadStatus(status).label))
        flags = name_flags(name, terms) if name else name_flags(company, terms)
        hits.append(
            SearchHit(
                id=pk,
                title=title,
                subtitle=" · ".join(details),
                url=reverse("leads:lead-detail", kwargs={"slug": tenant.slug, "pk": pk}),
                recency=created.timestamp(),
                **flags,
            )
        )
    return hits


def _inbox_params(membership: Membership) -> dict[str, str]:
    """The inbox tab that holds what the search found: a manager's team (their own tab is the default)."""
    return {"scope": "team"} if membership.role == Role.SALES_MANAGER else {}


LEAD_SEARCH = SearchKind(
    key="lead",
    label=_("Leads"),
    order=10,
    search=lead_search,
    list_url_name="leads:lead-list",
    visible_to=lambda membership: membership.role in LEAD_ROLES,
    list_params=_inbox_params,
    icon="person-lines-fill",
)
