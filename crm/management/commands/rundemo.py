"""`make demo`: migrate, load demo data once, print the URL and logins, and serve."""

from __future__ import annotations

import signal
import sys

from django.core.management import call_command
from django.core.management.base import BaseCommand

from crm import inline_beat, inline_worker
from crm.management.commands.seed_demo import DEMO_PASSWORD, demo_logins


class Command(BaseCommand):
    help = "Set up and run the demo on http://127.0.0.1:<port>."

    def add_arguments(self, parser):  # type: ignore[no-untyped-def]
        parser.add_argument("--port", default="8000")
        parser.add_argument("--no-serve", action="store_true", help="Prepare only; do not start the server.")

    def handle(self, *args, **options):  # type: ignore[no-untyped-def]
        call_command("migrate", interactive=False, verbosity=0)
        call_command("seed_demo")
        url = f"http://127.0.0.1:{options['port']}"
        lines = [
            "",
            f"CRM demo running at {url}",
            f"Log in with any of these (password {DEMO_PASSWORD}):",
            *[f"  {login}" for login in demo_logins()],
            "Stop with Ctrl-C.",
            "",
        ]
        self.stdout.write("\n".join(lines))
        if not options["no_serve"]:
            # `kill` (SIGTERM) stops like Ctrl-C: a normal exit runs the hook that stops the embedded PostgreSQL.
            signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(0))
            # No broker in the embedded demo: the periodic jobs (pool return, rescoring, reprices) run in-process.
            inline_beat.start()
            # ... and the tasks that pages queue run on a worker thread, not inside the request that queued them.
            inline_worker.start()
            call_command("runserver", f"127.0.0.1:{options['port']}", use_reloader=False)
