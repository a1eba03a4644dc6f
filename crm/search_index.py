"""The global search's index in PostgreSQL: the crm_search_entry table (crm.models.SearchEntry), the functions that
keep it and the one that reads it (issue 12; docs/scaling.md "Global search").

Why a SECURITY DEFINER function: under row-level security PostgreSQL applies the tenant policy before any
condition that is not LEAKPROOF, and may not use such a condition (LIKE, array containment) as an index
condition, so `text LIKE '%term%'` reads every row of the tenant. `crm_search_ids()` runs as the table owner, for
whom the table has one more policy, `search_owner_reads` (USING true, created for the role that runs the
migration): the permissive policies OR to true, PostgreSQL drops the constant, and nothing stops the trigram and
array indexes from serving the match. The function compensates by taking the tenant from `app.tenant_id` alone
(never from an argument) and matching it explicitly; with no tenant set it returns nothing. It returns record
ids only: the caller loads them through the kind's visibility queryset, under the app role's row-level security.

The owner policy is created only when the migrating role is not the app role (crm/dbroles.py's two-role layout):
in the old single-role layout it would let the app role read every tenant's entries directly, so there the
function stays under the tenant policy (correct, and as slow as before).

The triggers that keep the entries are the apps' (leads and accounts migrations): they call
crm_search_entry_put() and crm_search_entry_drop() defined here.
"""

from __future__ import annotations

from typing import Any

from psycopg import sql

TABLE = "crm_search_entry"
OWNER_POLICY = "search_owner_reads"
# Ceiling of what one call returns, whatever the caller asks (each part: the owners' matches and the others).
MAX_IDS = 5000

# The SQL below is literal text (the table's name, the tenant expression of crm/rls.py and MAX_IDS written out).
# The CJK ranges are crm.search._CJK's (kana, CJK ideographs and extension A, hangul, compatibility ideographs).

# The CJK characters and pairs of adjacent ones of a text, sorted, each once. PL/pgSQL (crm 0008): a text with no
# CJK character answers after one regex test (an SQL function with a subquery cost a fresh executor, 6 µs, on
# every call of the triggers); the runs' grams are gathered in a loop. Every name is schema-qualified instead of a
# SET search_path (a setting saved and restored on each call): the callers (the triggers, crm_search_ids) set
# their own.
GRAMS_FUNCTION = r"""
CREATE OR REPLACE FUNCTION crm_search_grams(p_text text) RETURNS text[]
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
DECLARE
    v_run pg_catalog.text;
    v_grams pg_catalog.text[] := '{}';
    v_length pg_catalog.int4;
BEGIN
    IF p_text IS NULL OR p_text OPERATOR(pg_catalog.!~) '[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff]' THEN
        RETURN '{}';
    END IF;
    FOR v_run IN
        SELECT found.parts[1]
        FROM pg_catalog.regexp_matches(p_text, '[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff]+', 'g') AS found(parts)
    LOOP
        v_length := pg_catalog.char_length(v_run);
        FOR pos IN 1..v_length LOOP
            v_grams := v_grams OPERATOR(pg_catalog.||) pg_catalog.substr(v_run, pos, 1);
            IF pos < v_length THEN
                v_grams := v_grams OPERATOR(pg_catalog.||) pg_catalog.substr(v_run, pos, 2);
            END IF;
        END LOOP;
    END LOOP;
    RETURN ARRAY(SELECT DISTINCT gram FROM pg_catalog.unnest(v_grams) AS gram ORDER BY gram);
END
$$
"""

PUT_FUNCTION = """
CREATE OR REPLACE FUNCTION crm_search_entry_put(
    p_tenant bigint, p_kind text, p_record bigint, p_owner bigint, p_text text
) RETURNS void LANGUAGE sql SET search_path = pg_catalog, public AS $$
    INSERT INTO crm_search_entry (tenant_id, kind, record_id, owner_id, text, grams, created_at, updated_at)
    VALUES (p_tenant, p_kind, p_record, coalesce(p_owner, 0), coalesce(p_text, ''), crm_search_grams(p_text), now(), now())
    ON CONFLICT (kind, record_id) DO UPDATE
        SET tenant_id = EXCLUDED.tenant_id, owner_id = EXCLUDED.owner_id, text = EXCLUDED.text,
            grams = EXCLUDED.grams, updated_at = EXCLUDED.updated_at
$$
"""

DROP_FUNCTION = """
CREATE OR REPLACE FUNCTION crm_search_entry_drop(p_kind text, p_record bigint) RETURNS void
LANGUAGE sql SET search_path = pg_catalog, public AS $$
    DELETE FROM crm_search_entry WHERE kind = p_kind AND record_id = p_record
$$
"""

# p_terms: the substrings to look for (any of them: crm.search.name_variants), lower-cased here again; a term of
# one or two Latin letters or digits matches where a word starts (it has no trigram: as a substring it would read
# every entry of the kind). Entries owned by nobody have owner_id 0.
# p_owners NULL: up to p_limit matches of any owner. Otherwise up to p_limit matches owned by p_owners, up to
# p_limit owned by nobody (with p_unowned: the lead pool), then up to p_others matches of other owners (for
# visibility rules wider than the owner: account teams, shared accounts), each part with its own LIMIT, so a
# rep's own matches are never crowded out by their colleagues' or the pool's. ROWS 20: a few ids, so the caller's
# plan looks them up by primary key (at ROWS 100 PostgreSQL hashed them against a scan of 200,000 contacts).
SEARCH_FUNCTION = r"""
CREATE OR REPLACE FUNCTION crm_search_ids(
    p_kind text, p_terms text[], p_limit integer,
    p_owners bigint[] DEFAULT NULL, p_unowned boolean DEFAULT false, p_others integer DEFAULT 0
) RETURNS SETOF bigint
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp
ROWS 20 AS $$
DECLARE
    v_tenant bigint := nullif(current_setting('app.tenant_id', true), '')::bigint;
    v_limit integer := least(greatest(coalesce(p_limit, 0), 0), 5000);
    v_others integer := least(greatest(coalesce(p_others, 0), 0), 5000);
    v_match text := '';
    v_term text;
    v_grams text[];
    v_like text;
    v_part text;
    v_base text;
BEGIN
    -- The tenant of the transaction, never an argument; none set: nothing (fail closed).
    IF v_tenant IS NULL OR p_terms IS NULL OR p_kind IS NULL THEN
        RETURN;
    END IF;
    FOREACH v_term IN ARRAY p_terms LOOP
        v_term := lower(btrim(coalesce(v_term, '')));
        CONTINUE WHEN v_term = '';
        v_grams := crm_search_grams(v_term);
        v_like := replace(replace(replace(v_term, '\', '\\'), '%', '\%'), '_', '\_');
        IF cardinality(v_grams) > 0 THEN
            -- CJK: the entry holds every character and pair of the term, and the text the term itself.
            v_part := format('grams @> %L::text[] AND text LIKE %L', v_grams, '%' || v_like || '%');
        ELSIF char_length(v_term) < 3 THEN
            -- Two letters or digits have no trigram: they are looked for where a word starts (at the start, after
            -- a space, a dot, an @ or a hyphen), each a pattern whose padded trigrams the index has.
            v_part := format(
                'text LIKE %L OR text LIKE %L OR text LIKE %L OR text LIKE %L OR text LIKE %L',
                v_like || '%', '% ' || v_like || '%', '%.' || v_like || '%', '%@' || v_like || '%',
                '%-' || v_like || '%'
            );
        ELSE
            v_part := format('text LIKE %L', '%' || v_like || '%');
        END IF;
        v_match := v_match || CASE WHEN v_match = '' THEN '' ELSE ' OR ' END || '(' || v_part || ')';
    END LOOP;
    IF v_match = '' OR v_limit = 0 THEN
        RETURN;
    END IF;
    v_base := 'SELECT record_id FROM crm_search_entry WHERE tenant_id = $1 AND kind = $2 AND (' || v_match || ')';
    IF p_owners IS NULL THEN
        RETURN QUERY EXECUTE v_base || ' LIMIT $3' USING v_tenant, p_kind, v_limit;
        RETURN;
    END IF;
    -- Constants are bigint: btree_gin's int8 keys serve no int8 = int4 comparison (owner_id = 0 read the heap of
    -- every match). One or two owners (a rep) are index keys; a team's dozen would cost one index scan each, so there the
    -- owner is checked on the matches instead (a team owns enough of them for the LIMIT to stop early).
    RETURN QUERY EXECUTE v_base || CASE WHEN cardinality(p_owners) <= 2 THEN ' AND owner_id = ANY($4)'
            ELSE ' AND owner_id + 0 = ANY($4)' END || ' LIMIT $3'
        USING v_tenant, p_kind, v_limit, p_owners;
    IF p_unowned THEN
        RETURN QUERY EXECUTE v_base || ' AND owner_id = 0::bigint LIMIT $3' USING v_tenant, p_kind, v_limit;
    END IF;
    IF v_others > 0 THEN
        RETURN QUERY EXECUTE v_base || ' AND owner_id <> ALL($4)'
            || CASE WHEN p_unowned THEN ' AND owner_id <> 0::bigint' ELSE '' END || ' LIMIT $3'
            USING v_tenant, p_kind, v_others, p_owners;
    END IF;
END
$$
"""

FUNCTIONS_SQL = [GRAMS_FUNCTION, PUT_FUNCTION, DROP_FUNCTION, SEARCH_FUNCTION]
DROP_FUNCTIONS_SQL = [
    "DROP FUNCTION IF EXISTS crm_search_ids(text, text[], integer, bigint[], boolean, integer)",
    "DROP FUNCTION IF EXISTS crm_search_entry_put(bigint, text, bigint, bigint, text)",
    "DROP FUNCTION IF EXISTS crm_search_entry_drop(text, bigint)",
    "DROP FUNCTION IF EXISTS crm_search_grams(text)",
]


def install_functions(apps: Any, schema_editor: Any) -> None:
    """The functions, and the owner's policy when the migrating role is not the app role."""
    from django.conf import settings

    connection = schema_editor.connection
    with connection.cursor() as cursor:
        for statement in FUNCTIONS_SQL:
            cursor.execute(statement)
        cursor.execute("SELECT current_user")
        migrating_role = cursor.fetchone()[0]
        app_role = (getattr(settings, "DATABASE_OWNER", None) or {}).get("APP_ROLE") or ""
        cursor.execute(f"DROP POLICY IF EXISTS {OWNER_POLICY} ON {TABLE}")
        if app_role and migrating_role != app_role:
            cursor.execute(f"CREATE POLICY {OWNER_POLICY} ON {TABLE} TO CURRENT_USER USING (true)")


def remove_functions(apps: Any, schema_editor: Any) -> None:
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(f"DROP POLICY IF EXISTS {OWNER_POLICY} ON {TABLE}")
        for statement in DROP_FUNCTIONS_SQL:
            cursor.execute(statement)


def trigger_sql(*, table: str, kind: str, function: str, body: str, columns: list[str]) -> list[str]:
    """A kind's trigger: `body` (PL/pgSQL) computes v_text for NEW; a live row is put, a deleted (or soft
    deleted) one dropped. Updates fire only when one of `columns` changes."""
    changed = " OR ".join(f"OLD.{column} IS DISTINCT FROM NEW.{column}" for column in columns)
    return [
        f"""
CREATE OR REPLACE FUNCTION {function}() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, public AS $$
DECLARE
    v_text text;
BEGIN
    IF TG_OP = 'DELETE' THEN
        PERFORM crm_search_entry_drop('{kind}', OLD.id);
        RETURN NULL;
    END IF;
    IF NEW.deleted_at IS NOT NULL THEN
        PERFORM crm_search_entry_drop('{kind}', NEW.id);
        RETURN NULL;
    END IF;
{body}
    PERFORM crm_search_entry_put(NEW.tenant_id, '{kind}', NEW.id, NEW.owner_id, v_text);
    RETURN NULL;
END
$$""",
        f"DROP TRIGGER IF EXISTS {function}_ins_del ON {table}",
        f"DROP TRIGGER IF EXISTS {function}_upd ON {table}",
        f"CREATE TRIGGER {function}_ins_del AFTER INSERT OR DELETE ON {table} "
        f"FOR EACH ROW EXECUTE FUNCTION {function}()",
        f"CREATE TRIGGER {function}_upd AFTER UPDATE ON {table} FOR EACH ROW WHEN ({changed}) "
        f"EXECUTE FUNCTION {function}()",
    ]


def insert_trigger_sql(*, table: str, kind: str, function: str, text_column: str) -> list[str]:
    """A kind's entries of new rows put by one statement-level trigger (a transition table), so a set insert (an
    import's chunk) writes its entries in one INSERT instead of one call per row; `function` (trigger_sql) keeps
    handling updates and deletes. The text is the row's `text_column`."""
    return [
        f"""
CREATE OR REPLACE FUNCTION {function}_ins() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, public AS $$
BEGIN
    INSERT INTO crm_search_entry (tenant_id, kind, record_id, owner_id, text, grams, created_at, updated_at)
    SELECT n.tenant_id, '{kind}', n.id, coalesce(n.owner_id, 0), coalesce(n.{text_column}, ''),
           crm_search_grams(n.{text_column}), now(), now()
    FROM new_rows AS n
    WHERE n.deleted_at IS NULL
    ON CONFLICT (kind, record_id) DO UPDATE
        SET tenant_id = EXCLUDED.tenant_id, owner_id = EXCLUDED.owner_id, text = EXCLUDED.text,
            grams = EXCLUDED.grams, updated_at = EXCLUDED.updated_at;
    RETURN NULL;
END
$$""",  # noqa: S608 -- names and the kind are a migration's constants, no user input
        f"DROP TRIGGER IF EXISTS {function}_ins_del ON {table}",
        f"CREATE TRIGGER {function}_del AFTER DELETE ON {table} FOR EACH ROW EXECUTE FUNCTION {function}()",
        f"CREATE TRIGGER {function}_ins AFTER INSERT ON {table} REFERENCING NEW TABLE AS new_rows "
        f"FOR EACH STATEMENT EXECUTE FUNCTION {function}_ins()",
    ]


def insert_trigger_drop_sql(*, table: str, function: str) -> list[str]:
    """Back to trigger_sql's row-level insert trigger."""
    return [
        f"DROP TRIGGER IF EXISTS {function}_ins ON {table}",
        f"DROP TRIGGER IF EXISTS {function}_del ON {table}",
        f"DROP FUNCTION IF EXISTS {function}_ins()",
        f"CREATE TRIGGER {function}_ins_del AFTER INSERT OR DELETE ON {table} "
        f"FOR EACH ROW EXECUTE FUNCTION {function}()",
    ]


def drop_trigger_sql(*, table: str, function: str) -> list[str]:
    return [
        f"DROP TRIGGER IF EXISTS {function}_ins_del ON {table}",
        f"DROP TRIGGER IF EXISTS {function}_ins ON {table}",
        f"DROP TRIGGER IF EXISTS {function}_del ON {table}",
        f"DROP TRIGGER IF EXISTS {function}_upd ON {table}",
        f"DROP FUNCTION IF EXISTS {function}_ins()",
        f"DROP FUNCTION IF EXISTS {function}()",
    ]


def backfill(cursor: Any, select_sql: str, *, kind: str, tenant_ids: list[int] | None = None) -> int:
    """Fill the entries of `kind` set-based, one INSERT ... SELECT per tenant (row-level security shows the
    migrating role one tenant's rows at a time). `select_sql` yields tenant_id, id, owner_id, text of the live
    rows. Every tenant, or those of `tenant_ids` (the benchmark's generator). Returns the rows written."""
    if tenant_ids is None:
        cursor.execute("SELECT id FROM crm_tenant ORDER BY id")
        tenant_ids = [row[0] for row in cursor.fetchall()]
    written = 0
    insert = sql.SQL(
        "INSERT INTO crm_search_entry (tenant_id, kind, record_id, owner_id, text, grams, created_at, updated_at) "
        "SELECT src.tenant_id, %s, src.id, coalesce(src.owner_id, 0), coalesce(src.text, ''), crm_search_grams(src.text), "
        "now(), now() FROM ({}) AS src "
        "ON CONFLICT (kind, record_id) DO UPDATE SET tenant_id = EXCLUDED.tenant_id, "
        "owner_id = EXCLUDED.owner_id, text = EXCLUDED.text, grams = EXCLUDED.grams"
    ).format(sql.SQL(select_sql))  # select_sql: a migration's constant
    for tenant_id in tenant_ids:
        cursor.execute("SELECT set_config('app.tenant_id', %s, true)", [str(tenant_id)])
        cursor.execute(insert, [kind])
        written += max(cursor.rowcount, 0)
    cursor.execute("SELECT set_config('app.tenant_id', '', true)")
    # Statistics now: without them the planner takes the fresh table for empty and the function's plans for
    # bitmaps of the whole tenant (1.2 s instead of 5 ms at a million leads).
    cursor.execute("ANALYZE crm_search_entry")
    return written
