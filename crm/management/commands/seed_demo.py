"""Load the demo tenants `acme` and `globex` with their six users each, then every app's demo data.

Idempotent: a tenant that already exists is left as it is. Each tenant is created and seeded in one transaction,
so a seed that fails half-way leaves no half-filled tenant behind and the next run starts that tenant afresh. Apps
add their data by registering a seeder (crm.demo.register_demo_seeder in their AppConfig.ready()), called inside the
tenant's context in the registered order.
"""

from __future__ import annotations

import random

from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import translation

from crm import services
from crm.demo import seed_all
from crm.models import Membership, Role, Tenant
from crm.tenancy import tenant_context

DEMO_PASSWORD = "demo-pass-1234"  # noqa: S105 -- the demo's published logins (README, printed by make demo)
DEMO_TENANTS = [
    {
        "slug": "acme",
        "name": "Acme Industrial 艾克美",
        "time_zone": "Asia/Shanghai",
        "currency": "CNY",
        "default_locale": "zh-hans",
    },
    {
        "slug": "globex",
        "name": "Globex GmbH",
        "time_zone": "Europe/Berlin",
        "currency": "EUR",
        "default_locale": "en",
    },
]
DEMO_USERS = [
    ("admin", Role.ADMIN, None, "Admin"),
    ("manager", Role.SALES_MANAGER, "Sales East", "Morgan Manager"),
    ("rep", Role.SALES_REP, "Sales East", "Riley Rep"),
    ("rep2", Role.SALES_REP, "Sales East", "Sam Rep"),
    ("ops", Role.OPS, "Revenue Ops", "Olive Ops"),
    ("cs", Role.CS, "Customer Success", "Casey CS"),
]
# acme is a Chinese company: its people and teams have Chinese display names (issue 12). The logins, emails,
# roles and password above stay exactly as DESIGN.md publishes them; only the names shown change.
DEMO_DISPLAY_NAMES = {
    "acme": {
        "people": {
            "admin": "陈静",
            "manager": "李明",
            "rep": "王磊",
            "rep2": "张伟",
            "ops": "刘芳",
            "cs": "赵敏",
        },
        "teams": {
            "Sales East": "华东销售部",
            "Revenue Ops": "营收运营部",
            "Customer Success": "客户成功部",
        },
    },
}


def demo_person_name(slug: str, login: str, default: str) -> str:
    return DEMO_DISPLAY_NAMES.get(slug, {}).get("people", {}).get(login, default)


def demo_team_name(slug: str, team: str | None) -> str | None:
    return DEMO_DISPLAY_NAMES.get(slug, {}).get("teams", {}).get(team, team) if team else team


def demo_logins() -> list[str]:
    return [f"{login}@{t['slug']}.test" for t in DEMO_TENANTS for login, *_ in DEMO_USERS]


class Command(BaseCommand):
    help = "Create the demo tenants, users and at least a year of history (idempotent)."

    def handle(self, *args, **options):  # type: ignore[no-untyped-def]
        for index, spec in enumerate(DEMO_TENANTS):
            if Tenant.objects.filter(slug=spec["slug"]).exists():
                self.stdout.write(f"demo tenant {spec['slug']} exists; leaving it as it is")
                continue
            # Texts the services write (a converted deal's default name, timeline notes) come out in the
            # tenant's language, as they would for its people.
            with transaction.atomic(), translation.override(spec["default_locale"]):
                tenant = self._create_and_seed(spec, index)
            self.stdout.write(self.style.SUCCESS(f"demo tenant {tenant.slug} created"))

    def _create_and_seed(self, spec: dict[str, str], index: int) -> Tenant:
        tenant = services.tenant_create(
            slug=spec["slug"],
            name=spec["name"],
            time_zone=spec["time_zone"],
            currency=spec["currency"],
            default_locale=spec["default_locale"],
            admin_email=f"admin@{spec['slug']}.test",
            admin_password=DEMO_PASSWORD,
            admin_name=demo_person_name(spec["slug"], "admin", "Admin"),
        )
        with tenant_context(tenant):
            admin = Membership.objects.select_related("user").get(role=Role.ADMIN)
            members = {"admin": admin}
            for login, role, team, full_name in DEMO_USERS[1:]:
                email = f"{login}@{tenant.slug}.test"
                membership, invitation = services.member_invite(
                    tenant=tenant,
                    actor=admin.user,
                    email=email,
                    role=role,
                    team_name=demo_team_name(tenant.slug, team),
                    send_email=False,
                )
                services.invitation_accept(
                    tenant=tenant,
                    invitation=invitation,
                    user=None,
                    full_name=demo_person_name(tenant.slug, login, full_name),
                    password=DEMO_PASSWORD,
                )
                members[login] = Membership.objects.select_related("user", "team").get(pk=membership.pk)
            rng = random.Random(20260101 + index)  # noqa: S311 -- seeded for repeatable demo data, not secrets
            seed_all(tenant=tenant, members=members, rng=rng)
        return tenant
