"""
The daily forecast snapshot. Invariants guarded here:

- one snapshot a day: the figures of every owner (and of the unowned opportunities) for this
  month and the ``HORIZON_MONTHS - 1`` after it, as they stand when it is taken; a second run
  the same day writes nothing (a check first, and the unique constraints
  ``forecast_snapshot_one_*`` against two runs at once, whose rows are then dropped);
- a team row (owner null, quota null) is written for every month taken even when its figures
  are zero: the forecast reads "was that day taken" from it;
- the figures are the forecast's own (``opportunities.selectors.forecast.monthly_figures``).
"""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone

from crm_project.core.roles import system_actor

from ..models import ForecastSnapshot
from ..selectors.forecast import SUMMED_FIGURES, add_months, first_of_month, monthly_figures

HORIZON_MONTHS = 12


@transaction.atomic
def forecast_snapshot_take(*, day: dt.date | None = None) -> int:
    """Take ``day``'s snapshot (default today in TIME_ZONE); the number of rows written (0 when taken)."""
    day = day or timezone.localdate()
    if ForecastSnapshot.objects.filter(day=day).exists():
        return 0
    months = [add_months(first_of_month(day), count) for count in range(HORIZON_MONTHS)]
    figures = monthly_figures(system_actor(), months=months, owner_id=None)
    for month in months:
        figures.setdefault((None, month), {"quota": None, **dict.fromkeys(SUMMED_FIGURES, 0)})
    rows = [
        ForecastSnapshot(
            day=day,
            owner_id=owner_id,
            period_start=month,
            quota=row["quota"],
            **{name: row[name] for name in SUMMED_FIGURES},
        )
        for (owner_id, month), row in figures.items()
    ]
    # Two runs at once both pass the check above: the constraints keep the first one's rows.
    created = ForecastSnapshot.objects.bulk_create(rows, batch_size=1000, ignore_conflicts=True)
    return len(created)
