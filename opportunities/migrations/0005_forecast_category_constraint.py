"""Forecast categories agree with the stage (checked once 0004 filled the existing rows)."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("opportunities", "0004_forecast_category_quotas_snapshots")]

    operations = [
        migrations.AddConstraint(
            model_name="opportunity",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(("stage", "closed_won"), ("forecast_category", "closed")),
                    models.Q(("stage", "closed_lost"), ("forecast_category", "omitted")),
                    models.Q(
                        models.Q(("stage__in", ["closed_won", "closed_lost"]), _negated=True),
                        models.Q(("forecast_category", "closed"), _negated=True),
                    ),
                    _connector="OR",
                ),
                name="opportunity_forecast_category_matches_stage",
                violation_error_message="The forecast category is closed for a won opportunity, omitted for a lost one, and never closed for an open one.",
            ),
        ),
    ]
