"""crm.bulk.copy_insert: what bulk_create writes, through COPY into a temporary twin and one INSERT ... SELECT, with
row-level security, constraints and statement triggers holding as for any insert (issue 10's speed)."""

from __future__ import annotations

import copy
import datetime

import pytest
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.forms.models import model_to_dict
from django.utils import timezone

from accounts.models import Activity, ActivityKind
from crm.bulk import copy_insert
from crm.history import history_actor
from crm.records import with_external_ids
from crm.tenancy import tenant_context
from leads.models import Lead
from leads.services.leads import CLEAN_EXCLUDE
from tests.factories import TenantFactory, UserFactory
from tests.factories_leads import LeadFactory

pytestmark = pytest.mark.django_db

AT = datetime.datetime(2024, 5, 1, 9, 30, tzinfo=datetime.UTC)


def new_leads(tenant, prefix: str) -> list[Lead]:
    return [
        LeadFactory.build(
            tenant=tenant,
            external_id=f"{prefix}-{n}",
            first_name="小明",
            last_name=f"Li{n}",
            email="",
            phone="",
            company="北京字节跳动科技有限公司",
            score=n,
            score_reasons=[{"rule": "title", "points": n}],
            created_at=AT,
            mql_at=AT if n else None,
        )
        for n in range(3)
    ]


def picture(lead: Lead) -> dict:
    return model_to_dict(lead, exclude=["id", "external_id", "updated_at"])


def test_it_writes_what_bulk_create_writes(tenant, admin_member):
    with tenant_context(tenant):
        copied, created = new_leads(tenant, "C"), new_leads(tenant, "B")
        with history_actor(admin_member.user):
            copy_insert(Lead, copied)
        Lead.objects.bulk_create(created)
        assert [lead.pk for lead in copied] == sorted(lead.pk for lead in copied)
        assert all(not lead._state.adding for lead in copied)
        stored = {lead.external_id: lead for lead in Lead.objects.all()}
        for lead, twin in zip(copied, created, strict=True):
            assert stored[lead.external_id].pk == lead.pk
            assert picture(stored[lead.external_id]) == picture(stored[twin.external_id])
        # statement triggers saw the set: one insert event per row, booked to the actor; search entries
        booked = set(
            Lead.objects.filter(external_id__startswith="C-").values_list(
                "events__pgh_context__metadata__user", flat=True
            )
        )
        assert booked == {admin_member.user.pk}
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM crm_search_entry WHERE kind = 'lead' AND record_id = ANY(%s)",
                [[lead.pk for lead in copied]],
            )
            assert cursor.fetchone()[0] == 3


def test_inside_an_import_ids_come_from_the_sequence_a_block_at_a_time(tenant):
    from django.test.utils import CaptureQueriesContext

    from crm.bulk import IDS_BLOCK, ids_in_blocks
    from crm.records import last_id

    with tenant_context(tenant):
        floor = last_id(Lead)
        first, second = new_leads(tenant, "A"), new_leads(tenant, "B")
        with ids_in_blocks(), CaptureQueriesContext(connection) as queries:
            copy_insert(Lead, first)
            copy_insert(Lead, second)
        assert sum("nextval" in query["sql"] for query in queries.captured_queries) == 1
        ids = [lead.pk for lead in first + second]
        assert ids == sorted(set(ids)) and ids[0] > floor
        assert sorted(Lead.objects.values_list("pk", flat=True)) == ids
        assert last_id(Lead) == floor + IDS_BLOCK  # the block was taken at once; the rest is never used
        after = new_leads(tenant, "C")
        copy_insert(Lead, after)  # outside the block: from the sequence, one set at a time
        assert after[0].pk == floor + IDS_BLOCK + 1


def test_row_level_security_refuses_another_tenants_row(tenant, other_tenant):
    with tenant_context(tenant):
        rows = new_leads(tenant, "T")
        rows[1].tenant = other_tenant
        with pytest.raises(DatabaseError, match="row-level security"), transaction.atomic():
            copy_insert(Lead, rows)
        assert not Lead.objects.exists()
        copy_insert(Lead, new_leads(tenant, "T"))  # the transaction goes on; the twin kept nothing
        assert Lead.objects.count() == 3
    with tenant_context(other_tenant):
        assert not Lead.objects.exists()


def test_constraints_hold_for_the_set(tenant):
    user = UserFactory()
    with tenant_context(tenant):
        copy_insert(Lead, new_leads(tenant, "S"))
        LeadFactory(tenant=tenant, external_id="T-1")
        with pytest.raises(IntegrityError), transaction.atomic():
            copy_insert(Lead, new_leads(tenant, "T"))  # T-1 is taken
        with pytest.raises(IntegrityError), transaction.atomic():
            copy_insert(
                Activity,
                [
                    Activity(
                        tenant=tenant, kind=ActivityKind.CALL, subject="x", owner=user, duration_minutes=2000
                    )
                ],
            )
        assert Lead.objects.count() == 4 and not Activity.objects.exists()
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM pg_temp.bulk_leads_lead")
            assert cursor.fetchone()[0] == 0


def test_times_are_written_as_the_orm_writes_them(tenant):
    naive = datetime.datetime(2024, 5, 1, 9, 30)  # noqa: DTZ001 -- the case under test
    with tenant_context(tenant):
        lead, twin = new_leads(tenant, "N")[1], new_leads(tenant, "M")[1]
        lead.mql_at = twin.mql_at = naive
        with pytest.warns(RuntimeWarning, match="naive datetime"):
            copy_insert(Lead, [lead])
        with pytest.warns(RuntimeWarning, match="naive datetime"):
            Lead.objects.bulk_create([twin])
        stored = dict(Lead.objects.values_list("external_id", "mql_at"))
    assert stored["N-1"] == stored["M-1"] == timezone.make_aware(naive, timezone.get_default_timezone())


@pytest.mark.parametrize("model", [Lead, Activity])
def test_a_chunks_external_ids_are_looked_up_through_the_unique_index(tenant, model):
    """The unique index on (tenant, external_id) is partial (`NOT external_id = ''`). PostgreSQL proves that an IN
    list implies that predicate only up to 100 values, so for a chunk's 1,000 ids the lookup must say it itself,
    in the index's own words, or it reads every record of the tenant (measured at a million activities: 9.9 s
    against 2 ms; bench/README.md "Imports")."""
    table = model._meta.db_table
    index = next(c for c in model._meta.constraints if c.name == f"{table}_tenant_ext_uniq")
    assert str(index.condition) == "(NOT (AND: ('external_id', '')))"
    ids = [f"X-{n}" for n in range(1000)]
    with tenant_context(tenant):
        sql, params = with_external_ids(model, tenant=tenant, external_ids=ids).query.sql_with_params()
    assert f'NOT ("{table}"."external_id" = %s' in sql and "" in params
    # The ids are one array parameter (crm.records.AnyOf): the statement does not grow with the chunk.
    assert f'"{table}"."external_id" = ANY(%s)' in sql and ids in params and len(params) < 10


def test_the_external_id_lookup_finds_what_an_in_list_finds(tenant):
    with tenant_context(tenant):
        leads = [LeadFactory(tenant=tenant, external_id=f"E-{n}") for n in range(3)]
        LeadFactory(tenant=tenant, external_id="")
        other = LeadFactory(tenant=TenantFactory(), external_id="E-1")
        ids = ["E-0", "E-2", "", "E-9", "e-1", "E-2"]
        found = set(with_external_ids(Lead, tenant=tenant, external_ids=ids))
        assert found == set(Lead.objects.filter(tenant=tenant, external_id__in=ids).exclude(external_id=""))
        assert found == {leads[0], leads[2]} and other not in found
        assert not with_external_ids(Lead, tenant=tenant, external_ids=[]).exists()


# --- SetCleaner: full_clean's field checks for a set, once per distinct value -----------------------------------

LEAD_EXCLUDE = CLEAN_EXCLUDE  # what leads_create_many's cleaner leaves out


def full_clean_errors(obj) -> dict | None:
    from django.core.exceptions import ValidationError

    try:
        obj.full_clean(exclude=list(LEAD_EXCLUDE), validate_unique=False, validate_constraints=False)
    except ValidationError as exc:
        return exc.message_dict
    return None


def set_clean_errors(cleaner, obj) -> dict | None:
    from django.core.exceptions import ValidationError

    try:
        cleaner.clean(obj)
    except ValidationError as exc:
        return exc.message_dict
    return None


def test_set_cleaner_gives_full_cleans_answers_row_after_row(tenant):
    from crm.bulk import SetCleaner

    cleaner = SetCleaner(Lead, LEAD_EXCLUDE)
    cases = [
        {"email": "ok@example.cn", "status": "working"},
        {"email": "not an email", "status": "working"},
        {"email": "ok@example.cn", "status": "bogus"},
        {"email": "not an email", "status": "bogus", "first_name": "x" * 101},
        {"email": "ok@example.cn", "status": "working", "score": -1},  # a value seen before, then a bad one
        {"email": "not an email", "status": "working"},  # its error again, from the memo
        {"email": "", "status": "new", "version": True},  # True is not 1: the type is part of the key
        {"email": "", "status": "new", "version": 1},
        # plain text fields: passed as they are when clean() would (non-empty, within the length, no NUL)
        {"first_name": "x" * 100, "last_name": "王" * 100},  # at the limit
        {"first_name": "x" * 101, "last_name": "王" * 101},  # past it, twice
        {"first_name": "a\x00b"},  # a NUL character
        {"last_name": ""},  # empty: blank or not, as full_clean says
        {"company": "北京字节跳动科技有限公司", "title": "  VP  "},  # kept as given, spaces too
    ]
    for values in cases:
        by_full_clean = LeadFactory.build(tenant=tenant, created_at=AT, **values)
        by_set = copy.deepcopy(by_full_clean)
        assert set_clean_errors(cleaner, by_set) == full_clean_errors(by_full_clean), values
        assert model_to_dict(by_set) == model_to_dict(by_full_clean)


def test_only_plain_text_fields_pass_their_values_as_they_are() -> None:
    """SetCleaner's fast path: a plain CharField or TextField, by its length; nothing with validators of its own
    (an email), with choices (a status) or of another type."""
    from crm.bulk import _text_limit

    def limit(name: str) -> int | None:
        return _text_limit(Lead._meta.get_field(name))

    assert limit("first_name") == Lead._meta.get_field("first_name").max_length
    assert limit("email") is None and limit("status") is None and limit("score") is None
    from accounts.models import Activity

    assert _text_limit(Activity._meta.get_field("body")) == -1  # a TextField without a length


def test_set_cleaner_cleans_times_every_time(tenant):
    """One instant in two time zones compares equal: each row keeps its own value."""
    from crm.bulk import SetCleaner

    cleaner = SetCleaner(Lead, LEAD_EXCLUDE)
    shanghai = datetime.timezone(datetime.timedelta(hours=8))
    first = LeadFactory.build(tenant=tenant, created_at=AT)
    second = LeadFactory.build(tenant=tenant, created_at=AT.astimezone(shanghai))
    cleaner.clean(first)
    cleaner.clean(second)
    assert second.created_at.utcoffset() == datetime.timedelta(hours=8)


@pytest.mark.django_db
def test_maker_builds_what_the_constructor_builds(tenant, member):
    """crm.bulk.Maker (the set writes' fast constructor) gives the instance Model(**values) gives: every field's
    default, the values given, related instances cached and type checked; unknown keywords refused."""
    from crm.bulk import Maker
    from leads.models import Lead, LeadSource

    rep = member()
    with tenant_context(tenant):
        source = LeadSource.objects.create(tenant=tenant, name="Web", kind="inbound")
        values = {
            "tenant": tenant,
            "owner": rep.user,
            "source": source,
            "last_name": "Li",
            "company": "Harbor",
        }
        made, built = Maker(Lead)(**values), Lead(**values)
        fields = [field.attname for field in Lead._meta.concrete_fields if field.attname != "created_at"]
        assert [getattr(made, name) for name in fields] == [getattr(built, name) for name in fields]
        assert made.owner is rep.user and made.source is source and made.tenant is tenant
        assert made._state.adding and made._state.db == built._state.db
        assert Maker(Lead)(tenant=tenant, owner_id=rep.user.pk).owner_id == rep.user.pk
        assert Maker(Activity)(tenant=tenant, kind="call", lead=None).lead_id is None
        with pytest.raises(TypeError):
            Maker(Lead)(tenant=tenant, nonsense=1)
        with pytest.raises(ValueError):
            Maker(Lead)(tenant=tenant, owner=source)
        # Lead's fields are plain attributes: made without the constructor, the same instance.
        made, built = Maker(Lead)(tenant=tenant, last_name="Li"), Lead(tenant=tenant, last_name="Li")
        assert Maker(Lead).direct
        skip = {"_state", "created_at"}
        assert {k: v for k, v in vars(made).items() if k not in skip} == {
            k: v for k, v in vars(built).items() if k not in skip
        }
        assert made._state.fields_cache == built._state.fields_cache == {"tenant": tenant}
        assert made._state.adding and made._state.db == built._state.db


def test_from_rows_gives_what_from_db_gives(tenant, member):
    """crm.bulk.from_rows (the import chunks' lookups of linked records) makes the instances Model.from_db makes
    from the same columns: loaded values, the others deferred (read on first use), saved state and database."""
    from crm.bulk import from_rows

    rep = member()
    with tenant_context(tenant):
        lead = LeadFactory(tenant=tenant, owner=rep.user, external_id="L-1", company="Harbor")
        names = ("id", "tenant_id", "external_id", "deleted_at", "owner_id")
        rows = list(Lead.objects.filter(pk=lead.pk).values_list(*names))
        (made,) = from_rows(Lead, names, rows, "default")
        # from_db takes the values in the order of the model's fields (as a queryset reads them)
        ordered = [field.attname for field in Lead._meta.concrete_fields if field.attname in names]
        (built,) = [
            Lead.from_db("default", ordered, row)
            for row in Lead.objects.filter(pk=lead.pk).values_list(*ordered)
        ]
        assert (
            made.get_deferred_fields() == built.get_deferred_fields()
            and "company" in made.get_deferred_fields()
        )
        assert [getattr(made, name) for name in names] == [getattr(built, name) for name in names]
        assert (
            (made._state.adding, made._state.db)
            == (built._state.adding, built._state.db)
            == (False, "default")
        )
        assert made.owner == rep.user and made.company == "Harbor"  # a relation and a deferred field, read
        assert made == lead
