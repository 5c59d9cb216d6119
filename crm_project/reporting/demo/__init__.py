"""
What ``manage.py seed_demo`` hands to each domain's demo module (``seed(ctx)``): the demo users, a
seeded random generator and a progress bar. Each domain seeds its own records through its
own services, and tops up to the requested size, so running the command twice adds nothing.
"""

from __future__ import annotations

import random
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from tqdm import tqdm

# Demo data is marked by this email domain (customers, leads) so it can be found again.
DEMO_EMAIL_DOMAIN = "demo.example"


@dataclass
class DemoContext:
    manager: Any
    reps: list[Any]
    admin: Any
    size: int
    rng: random.Random = field(default_factory=lambda: random.Random(2025))

    @property
    def staff(self) -> list[Any]:
        return [self.manager, *self.reps]

    def count(self, base: int) -> int:
        """How many records of a kind: ``base`` at the default size 1, scaled linearly."""
        return max(1, base * self.size)

    def progress(self, items: Iterable, description: str, total: int | None = None) -> Iterator:
        """A progress bar on stderr for long seeding; silent for small runs."""
        total = total if total is not None else (len(items) if hasattr(items, "__len__") else None)
        return iter(
            tqdm(items, desc=description, total=total, file=sys.stderr, disable=(total or 0) < 500, leave=False)
        )
