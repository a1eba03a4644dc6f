"""Room on every page of lifecycle_healthscore for a second version of its rows.

The nightly health recompute updates every customer account's score (the days since the last touch move daily).
With full pages (the default fillfactor 100) each update moves the row to another page and adds an entry to every
index; with half of each page free, a row whose score (the only indexed column that changes) stays the same is
updated in place (a HOT update: no index writes). Measured with bench/lifecycle.py. Pages written from now on
keep the room; existing ones get it as the recompute and vacuum rewrite them.
"""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("lifecycle", "0002_health_feedback_playbooks")]

    operations = [
        migrations.RunSQL(
            "ALTER TABLE lifecycle_healthscore SET (fillfactor = 50)",
            reverse_sql="ALTER TABLE lifecycle_healthscore RESET (fillfactor)",
        )
    ]
