"""The dashboard's chart geometry: bar lengths in proportion, a centred funnel, a ring, short numbers."""

from __future__ import annotations

from decimal import Decimal

import pytest

from crm_project.reporting.charts import (
    BAR_SPACE,
    LABEL_WIDTH,
    BarInput,
    Ring,
    bar_chart,
    compact_number,
    full_number,
    funnel_chart,
)


def rows(*values, inner=None):
    return [BarInput(label=f"row {i}", value=v, text=str(v), inner=inner) for i, v in enumerate(values)]


def test_the_largest_bar_fills_the_space_and_the_others_are_in_proportion():
    chart = bar_chart(rows(Decimal("400"), Decimal("100"), Decimal("0")), summary="s")
    assert [bar.width for bar in chart.bars] == [BAR_SPACE, BAR_SPACE / 4, 0]
    assert all(bar.x == LABEL_WIDTH for bar in chart.bars)
    assert [bar.text_x for bar in chart.bars] == [bar.x + bar.width + 8 for bar in chart.bars]


def test_a_tiny_value_stays_visible_and_nothing_at_all_draws_nothing():
    chart = bar_chart(rows(1_000_000, 1), summary="s")
    assert chart.bars[1].width == 2.0
    assert [bar.width for bar in bar_chart(rows(0, 0), summary="s").bars] == [0, 0]


def test_the_inner_part_is_drawn_to_the_same_scale_inside_its_bar():
    (bar,) = bar_chart([BarInput(label="Proposal", value=1000, inner=250, text="")], summary="s").bars
    assert (bar.width, bar.inner_width) == (BAR_SPACE, BAR_SPACE / 4)


def test_rows_stack_downwards_and_the_chart_is_as_tall_as_its_rows():
    chart = bar_chart(rows(3, 2, 1), summary="s")
    assert [bar.y for bar in chart.bars] == sorted(bar.y for bar in chart.bars)
    assert chart.height > chart.bars[-1].y + chart.bar_height
    assert bar_chart([], summary="s").is_empty


def test_a_funnel_centres_its_bars_and_writes_figures_in_one_column():
    chart = funnel_chart(rows(100, 50), summary="s")
    centres = {bar.x + bar.width / 2 for bar in chart.bars}
    assert centres == {LABEL_WIDTH + BAR_SPACE / 2}
    assert len({bar.text_x for bar in chart.bars}) == 1


@pytest.mark.parametrize(
    ("percent", "share"), [(Decimal("0"), 0), (Decimal("50"), 0.5), (Decimal("100"), 1), (Decimal("140"), 1)]
)
def test_the_ring_arc_is_the_share_of_the_circumference(percent, share):
    ring = Ring(percent=percent)
    assert ring.arc == pytest.approx(ring.circumference * share, abs=0.01)


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (0, "0"),
        (980, "980"),
        (Decimal("45000"), "45K"),
        (Decimal("1234567.89"), "1.2M"),
        (Decimal("999000000"), "999M"),
        (Decimal("33517870000"), "33.5B"),
        (Decimal("-2500"), "-2.5K"),
    ],
)
def test_compact_numbers_for_chart_labels(value, text):
    assert compact_number(value) == text


def test_full_numbers_for_titles():
    assert full_number(Decimal("1234567.5")) == "1,234,567.50"
