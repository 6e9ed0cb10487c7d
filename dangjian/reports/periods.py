"""The periods statistics and report drafts are asked for: a quarter, a half-year or a year.

A period lies within one calendar year, as the organizational-life compliance it reports on
does (its requirements run by month, quarter and year).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from django.utils.translation import gettext_lazy as _

PARTS = {
    "year": (_("全年"), 1, 12),
    "h1": (_("上半年"), 1, 6),
    "h2": (_("下半年"), 7, 12),
    "q1": (_("第一季度"), 1, 3),
    "q2": (_("第二季度"), 4, 6),
    "q3": (_("第三季度"), 7, 9),
    "q4": (_("第四季度"), 10, 12),
}


@dataclass(frozen=True)
class Period:
    year: int
    part: str = "year"

    @property
    def first_month(self) -> int:
        return PARTS[self.part][1]

    @property
    def last_month(self) -> int:
        return PARTS[self.part][2]

    @property
    def start(self) -> date:
        return date(self.year, self.first_month, 1)

    @property
    def end(self) -> date:
        """The last day of the period."""
        if self.last_month == 12:
            return date(self.year, 12, 31)
        return date(self.year, self.last_month + 1, 1) - timedelta(days=1)

    @property
    def label(self) -> str:
        return f"{self.year}年{PARTS[self.part][0]}"

    def as_query(self) -> dict:
        return {"year": self.year, "part": self.part}

    def last_month_start(self, today: date) -> date:
        """The month whose dues collection the statistics show: the period's last month, or,
        while the period runs, the last month already ended (the current one is still being
        collected)."""
        last = date(self.year, self.last_month, 1)
        ended = today.replace(day=1) - timedelta(days=1)
        return min(last, ended.replace(day=1)) if self.start <= today else last


def period_from(params, today: date, default_part: str = "year") -> Period:
    """The period asked for in a query string (``year``, ``part``); a bad or missing value
    falls back to this year's."""
    try:
        year = int(params.get("year", today.year))
    except (TypeError, ValueError):
        year = today.year
    if not 2000 <= year <= today.year + 1:
        year = today.year
    part = params.get("part", default_part)
    if part not in PARTS:
        part = default_part
    return Period(year, part)
