"""crm_search_grams() in PL/pgSQL (crm/search_index.py): the same grams for every text, cheaper per call (the
search-entry triggers call it for every lead, account, contact and deal written). Entries keep their grams."""

from django.db import migrations

from crm.search_index import GRAMS_FUNCTION

# The function as crm 0007 made it (an SQL function), put back when this migration is reversed.
SQL_GRAMS_FUNCTION = r"""
CREATE OR REPLACE FUNCTION crm_search_grams(p_text text) RETURNS text[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE SET search_path = pg_catalog AS $$
    SELECT coalesce(array_agg(DISTINCT gram ORDER BY gram), '{}'::text[])
    FROM (
        SELECT substr(run.chars, pos, width) AS gram
        FROM regexp_matches(coalesce(p_text, ''), '[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff]+', 'g') AS found(parts)
        CROSS JOIN LATERAL (SELECT found.parts[1] AS chars) AS run
        CROSS JOIN LATERAL generate_series(1, char_length(run.chars)) AS pos
        CROSS JOIN (VALUES (1), (2)) AS widths(width)
        WHERE pos + width - 1 <= char_length(run.chars)
    ) AS grams
$$
"""


class Migration(migrations.Migration):
    dependencies = [
        ("crm", "0007_search_entry"),
    ]

    operations = [
        migrations.RunSQL(GRAMS_FUNCTION, reverse_sql=SQL_GRAMS_FUNCTION),
    ]
