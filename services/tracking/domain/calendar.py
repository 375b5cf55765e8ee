"""Business days: Monday to Friday, less the public holidays of a country (Serbia by default).

The holidays come from the maintained `holidays` library, never from a list kept here: in
Serbia they include Orthodox Christmas and Easter (Good Friday to Easter Monday), Statehood
Day (15-16 February) and Labour Day (1-2 May), with an observed day when one falls on a
Sunday. Each year is loaded the first time a date in it is asked about.
"""

from __future__ import annotations

from datetime import date, timedelta

import holidays

_SATURDAY = 5
_ADJECTIVES = {"RS": "Serbian"}


class BusinessCalendar:
    """Which days count as business days in one country, and counting with them."""

    def __init__(self, country: str = "RS", language: str = "en_US") -> None:
        self.country = country
        self._language = language
        self._years: dict[int, dict[date, str]] = {}

    @property
    def holidays_label(self) -> str:
        """How a basis text names these holidays: "Serbian public holidays"."""
        adjective = _ADJECTIVES.get(self.country)
        return f"{adjective} public holidays" if adjective else f"public holidays of {self.country}"

    def holiday_name(self, day: date) -> str | None:
        """The public holiday on `day`, or None when it is not one."""
        return self._holidays_of(day.year).get(day)

    def is_business_day(self, day: date) -> bool:
        """True on a weekday that is not a public holiday."""
        return day.weekday() < _SATURDAY and self.holiday_name(day) is None

    def add_business_days(self, start: date, n: int) -> date:
        """The n-th business day after `start` (`start` itself is not counted).

        With n == 0, `start` when it is a business day, otherwise the next one: the result is
        never a weekend day or a holiday.
        """
        if n < 0:
            raise ValueError(f"cannot count {n} business days: give a number of 0 or more")
        day = start
        counted = 0
        while counted < n or not self.is_business_day(day):
            day += timedelta(days=1)
            counted += self.is_business_day(day)
        return day

    def business_days_between(self, a: date, b: date) -> int:
        """Business days after `a` up to and including `b` (negative when `b` is before `a`).

        The inverse of `add_business_days`: `business_days_between(a, add_business_days(a, n))`
        is n for every n > 0.
        """
        if b < a:
            return -self.business_days_between(b, a)
        return sum(self.is_business_day(day) for day in _days_after(a, b))

    def weekday_holidays(self, a: date, b: date) -> list[tuple[date, str]]:
        """The holidays after `a` up to and including `b` that fall on a weekday: the days a
        count of business days skips beyond the weekends."""
        return [
            (day, name)
            for day in _days_after(a, b)
            if day.weekday() < _SATURDAY and (name := self.holiday_name(day)) is not None
        ]

    def _holidays_of(self, year: int) -> dict[date, str]:
        if year not in self._years:
            loaded = holidays.country_holidays(self.country, years=year, language=self._language)
            self._years[year] = dict(loaded)
        return self._years[year]


def _days_after(a: date, b: date) -> list[date]:
    return [a + timedelta(days=offset) for offset in range(1, (b - a).days + 1)]
