from django.db import migrations, models


class Migration(migrations.Migration):
    """Events name their subscriptions; their deliveries are written after the commit (the fan-out)."""

    dependencies = [
        ("core", "0011_mergeredirect"),
    ]

    operations = [
        # The events already written have their deliveries: fanned out. New ones start without.
        migrations.AddField(
            model_name="webhookevent",
            name="fanned_out",
            field=models.BooleanField(default=True),
        ),
        migrations.AlterField(
            model_name="webhookevent",
            name="fanned_out",
            field=models.BooleanField(default=False),
        ),
        migrations.AddField(
            model_name="webhookevent",
            name="subscription_ids",
            field=models.JSONField(default=list),
        ),
        migrations.AddIndex(
            model_name="webhookevent",
            index=models.Index(
                condition=models.Q(("fanned_out", False)), fields=["id"], name="webhookevent_fan_out_idx"
            ),
        ),
    ]
