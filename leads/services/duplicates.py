"""Duplicate keys of leads written without the services (the migration that added them, the benchmark's bulk
SQL). The keys of a lead written through the services are set by leads.services.leads.lead_set_derived."""

from __future__ import annotations

from typing import Any

from crm.normalize import company_key

_PHONE_TAIL_FILL_SQL = """
UPDATE leads_lead SET phone_tail = CASE WHEN length(d) >= 7 THEN right(d, 7) ELSE '' END
FROM (SELECT id AS lead_id, regexp_replace(phone, '\\D', '', 'g') AS d FROM leads_lead
      WHERE tenant_id = %s AND phone <> '') AS digits
WHERE leads_lead.id = digits.lead_id AND leads_lead.tenant_id = %s
"""


_FILL_BATCH = 5000


def lead_fill_duplicate_keys(*, tenant_id: int, cursor: Any) -> None:
    """Recompute phone_tail and company_key of every lead of one tenant from phone and company, for rows written
    without the services (the migration that added the keys, the benchmark's bulk SQL). Runs inside the tenant's
    RLS setting; the history triggers ignore these columns."""
    cursor.execute(_PHONE_TAIL_FILL_SQL, [tenant_id, tenant_id])
    last_id = 0
    while True:
        cursor.execute(
            "SELECT id, company FROM leads_lead WHERE tenant_id = %s AND id > %s AND company <> ''"
            " ORDER BY id LIMIT %s",
            [tenant_id, last_id, _FILL_BATCH],
        )
        rows = cursor.fetchall()
        if not rows:
            return
        last_id = rows[-1][0]
        keys = [(pk, company_key(company)[:200]) for pk, company in rows]
        values = ", ".join(["(%s::bigint, %s::text)"] * len(keys))
        cursor.execute(
            f"UPDATE leads_lead AS l SET company_key = v.key FROM (VALUES {values}) AS v(id, key)"  # noqa: S608 -- {values} holds only %s placeholders; every value is bound
            # Only the keys that change are written (a re-run after a normalizer change touches few rows).
            " WHERE l.id = v.id AND l.tenant_id = %s AND l.company_key IS DISTINCT FROM v.key",
            [param for row in keys for param in row] + [tenant_id],
        )
