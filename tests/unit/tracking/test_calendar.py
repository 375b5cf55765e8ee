"""Counting business days in Serbia: weekends and Serbian public holidays are skipped, and the
holidays are the ones the maintained `holidays` library knows, observed days included."""

from datetime import date

import pytest

from services.tracking.domain.calendar import BusinessCalendar

SERBIA = BusinessCalendar()


def test_orthodox_easter_takes_good_friday_and_easter_monday_out_of_the_count() -> None:
    # Thursday 9 April 2026: Good Friday (10th), the weekend, Easter Monday (13th) do not count;
    # Tue 14, Wed 15, Thu 16, Fri 17 and Mon 20 do.
    assert SERBIA.add_business_days(date(2026, 4, 9), 5) == date(2026, 4, 20)
    assert SERBIA.weekday_holidays(date(2026, 4, 9), date(2026, 4, 20)) == [
        (date(2026, 4, 10), "Good Friday"),
        (date(2026, 4, 13), "Easter Monday"),
    ]


def test_statehood_day_on_a_sunday_is_observed_on_the_tuesday() -> None:
    # 15 February 2026 is a Sunday: the 16th is the second day and the 17th the observed one.
    assert SERBIA.holiday_name(date(2026, 2, 15)) == "Statehood Day"
    assert SERBIA.holiday_name(date(2026, 2, 17)) == "Statehood Day (observed)"
    assert not SERBIA.is_business_day(date(2026, 2, 16))
    assert not SERBIA.is_business_day(date(2026, 2, 17))
    assert SERBIA.add_business_days(date(2026, 2, 13), 1) == date(2026, 2, 18)


def test_labour_day_on_a_saturday_moves_nothing_but_friday_first_of_may_is_off() -> None:
    # 2026: 1 May is a Friday (off), 2 May a Saturday (no observed day: only Sundays move).
    assert SERBIA.add_business_days(date(2026, 4, 30), 1) == date(2026, 5, 4)


def test_easter_and_labour_day_together_in_2027_close_four_weekdays() -> None:
    # Good Friday 30 April, Easter Monday 3 May, Labour Day observed on Tuesday 4 May.
    assert SERBIA.add_business_days(date(2027, 4, 29), 1) == date(2027, 5, 5)
    names = [name for _, name in SERBIA.weekday_holidays(date(2027, 4, 29), date(2027, 5, 5))]
    assert names == ["Good Friday", "Easter Monday", "Labor Day (observed)"]


def test_new_year_and_orthodox_christmas_across_the_turn_of_the_year() -> None:
    # From Wednesday 31 December 2025: 1-2 January are off, then Mon 5, Tue 6, (Wed 7 is
    # Christmas), Thu 8.
    assert SERBIA.add_business_days(date(2025, 12, 31), 3) == date(2026, 1, 8)
    assert SERBIA.business_days_between(date(2025, 12, 31), date(2026, 1, 8)) == 3


def test_armistice_day_is_a_holiday() -> None:
    assert not SERBIA.is_business_day(date(2026, 11, 11))
    assert SERBIA.is_business_day(date(2026, 11, 12))


def test_the_start_day_is_not_counted_and_the_result_is_never_a_day_off() -> None:
    assert SERBIA.add_business_days(date(2026, 3, 2), 1) == date(2026, 3, 3)  # Mon -> Tue
    assert SERBIA.add_business_days(date(2026, 3, 6), 1) == date(2026, 3, 9)  # Fri -> Mon
    assert SERBIA.add_business_days(date(2026, 3, 7), 0) == date(2026, 3, 9)  # Sat -> Mon
    assert SERBIA.add_business_days(date(2026, 3, 4), 0) == date(2026, 3, 4)  # a business day


def test_counting_between_two_days_undoes_adding() -> None:
    start = date(2026, 4, 9)
    for n in range(1, 40):
        assert SERBIA.business_days_between(start, SERBIA.add_business_days(start, n)) == n
    assert SERBIA.business_days_between(date(2026, 4, 20), date(2026, 4, 9)) == -5


def test_a_negative_count_is_refused() -> None:
    with pytest.raises(ValueError, match="-1 business days"):
        SERBIA.add_business_days(date(2026, 3, 2), -1)


def test_the_holidays_are_named_for_a_basis_text() -> None:
    assert SERBIA.holidays_label == "Serbian public holidays"
    assert BusinessCalendar("HR").holidays_label == "public holidays of HR"
