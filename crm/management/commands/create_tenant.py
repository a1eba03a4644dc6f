from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from crm import services


class Command(BaseCommand):
    help = "Create a tenant with its first admin."

    def add_arguments(self, parser):  # type: ignore[no-untyped-def]
        parser.add_argument("slug")
        parser.add_argument("--name", required=True)
        parser.add_argument("--time-zone", default="UTC")
        parser.add_argument("--currency", default="USD")
        parser.add_argument("--admin-email", required=True)
        parser.add_argument("--admin-password", required=True)
        parser.add_argument("--locale", default="en")
        parser.add_argument("--fiscal-year-start-month", type=int, default=1)

    def handle(self, *args, **options):  # type: ignore[no-untyped-def]
        try:
            tenant = services.tenant_create(
                slug=options["slug"],
                name=options["name"],
                time_zone=options["time_zone"],
                currency=options["currency"],
                admin_email=options["admin_email"],
                admin_password=options["admin_password"],
                default_locale=options["locale"],
                fiscal_year_start_month=options["fiscal_year_start_month"],
            )
        except ValidationError as exc:
            raise CommandError("; ".join(f"{k}: {' '.join(v)}" for k, v in exc.message_dict.items())) from exc
        self.stdout.write(self.style.SUCCESS(f"Created tenant {tenant.slug} ({tenant.name})"))
