"""
What ``manage.py seed_demo`` hands to each domain's demo module (``seed(ctx)``): the demo users, a
seeded random generator, a progress bar, and the demo's clock. Each domain seeds its own
records through its own services, and tops up to the requested size, so running the command
twice adds nothing.

The demo tells a story that ends now: leads came in over the past months, were contacted days
later and converted weeks after; opportunities moved through the pipeline stage by stage.
Every event is written by the service that owns it, run ``as_of`` the moment it happened, so
the services stamp it as they would have then (``created_at``, ``converted_at``, stage
changes, document numbers of that day) and no field is written behind their backs.
"""

from __future__ import annotations

import datetime as dt
import random
import sys
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, ClassVar
from unittest import mock

from django.utils import timezone
from tqdm import tqdm

from crm_project.core.dates import start_of

# Demo data is marked by this email domain (customers, leads) so it can be found again.
DEMO_EMAIL_DOMAIN = "demo.example"

# Events happen in working hours: a day's first event starts between these (TIME_ZONE), and
# what follows on the same day comes minutes or an hour later, still within the day.
WORKDAY_STARTS = (9 * 60, 16 * 60)


class _AnyDatetime(type):
    # Django's timezone module also asks ``isinstance(value, datetime)`` (template_localtime):
    # while its ``datetime`` is the stopped clock, real datetimes must still answer yes.
    def __instancecheck__(cls, instance: object) -> bool:
        return isinstance(instance, dt.datetime)


class _StoppedClock(dt.datetime, metaclass=_AnyDatetime):
    """``datetime`` as Django's timezone module sees it inside ``as_of``: ``now()`` is the moment."""

    moment: ClassVar[dt.datetime] = dt.datetime.min.replace(tzinfo=dt.UTC)

    @classmethod
    def now(cls, tz: dt.tzinfo | None = None) -> dt.datetime:
        return cls.moment.astimezone(tz) if tz is not None else cls.moment.astimezone().replace(tzinfo=None)


@contextmanager
def as_of(moment: dt.datetime) -> Iterator[None]:
    """
    Run the enclosed service calls as if the clock read ``moment`` (an aware time, not in the
    future): whatever asks Django for the time gets ``moment``.

    Django's ``timezone.now()`` returns ``datetime.now(...)`` of its own module, so that one
    name is swapped for a stopped clock. Patching ``timezone.now`` itself would not be enough:
    the model fields declared ``default=timezone.now`` (every record's ``created_at``) hold the
    function, not the name, and would still read the real clock.
    """
    if timezone.is_naive(moment):
        raise ValueError("as_of needs an aware datetime.")
    if moment > timezone.now():
        raise ValueError(f"Demo events happen in the past, not at {moment.isoformat()}.")
    with (
        mock.patch.object(_StoppedClock, "moment", moment),
        mock.patch.object(timezone, "datetime", _StoppedClock),
    ):
        yield


@dataclass
class DemoContext:
    manager: Any
    reps: list[Any]
    admin: Any
    size: int
    rng: random.Random = field(default_factory=lambda: random.Random(2025))
    # Where the story ends: every event is dated at or before it.
    now: dt.datetime = field(default_factory=timezone.now)
    # Communications logged during this run, by any domain's demo (for the summary).
    communications_logged: int = 0

    @property
    def staff(self) -> list[Any]:
        return [self.manager, *self.reps]

    def count(self, base: int) -> int:
        """How many records of a kind: ``base`` at the default size 1, scaled linearly."""
        return max(1, base * self.size)

    def days_ago(self, days: int) -> dt.datetime:
        """A moment in the working hours of the day ``days`` before today (TIME_ZONE), never after ``now``."""
        day = timezone.localdate(self.now) - dt.timedelta(days=days)
        return min(start_of(day) + dt.timedelta(minutes=self.rng.randint(*WORKDAY_STARTS)), self.now)

    def shortly_after(self, moment: dt.datetime) -> dt.datetime:
        """A moment 10 to 90 minutes after ``moment`` (the next thing that day), never after ``now``."""
        return min(moment + dt.timedelta(minutes=self.rng.randint(10, 90)), self.now)

    def progress(self, items: Iterable, description: str, total: int | None = None) -> Iterator:
        """A progress bar on stderr for long seeding; silent for small runs."""
        total = total if total is not None else (len(items) if hasattr(items, "__len__") else None)
        return iter(
            tqdm(items, desc=description, total=total, file=sys.stderr, disable=(total or 0) < 500, leave=False)
        )
