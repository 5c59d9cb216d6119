"""The qualification flag, its timestamp and the status agree (see ``Lead.Meta.constraints``)."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("leads", "0002_search_trigram_indexes")]

    operations = [
        migrations.AddConstraint(
            model_name="lead",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(
                        ("is_qualified", True),
                        ("qualified_at__isnull", False),
                        models.Q(("status__in", ["new", "contacted"]), _negated=True),
                    ),
                    models.Q(
                        ("is_qualified", False),
                        ("qualified_at__isnull", True),
                        models.Q(("status", "qualified"), _negated=True),
                    ),
                    _connector="OR",
                ),
                name="lead_qualification_matches_status",
                violation_error_message=(
                    "A lead is qualified (with a qualification time) exactly while its status is qualified, "
                    "or after it was converted or lost as a qualified lead."
                ),
            ),
        ),
    ]
