"""Calendar arithmetic: weekdays, adding to dates, differences, calendars, nth weekday of a month."""

from __future__ import annotations

import calendar
from datetime import datetime, timedelta

from fastmcp import FastMCP

mcp = FastMCP("time.dates")

DATE_FORMATS = (
    "%Y-%m-%d",
    "%B %d, %Y",
    "%b %d, %Y",
    "%B %d %Y",
    "%b %d %Y",
    "%d %B %Y",
    "%d %b %Y",
    "%m/%d/%Y",
    "%Y/%m/%d",
)
WEEKDAYS = list(calendar.day_name)


def _parse(text: str) -> datetime:
    """ISO dates and datetimes, plus the common English forms ("March 5, 2024", "5 Mar 2024", "03/05/2024" US)."""
    cleaned = " ".join(text.strip().replace(",", ", ").split()).replace(" ,", ",")
    try:
        return datetime.fromisoformat(cleaned)
    except ValueError:
        pass
    for fmt in DATE_FORMATS:
        try:
            return datetime.strptime(cleaned, fmt)
        except ValueError:
            continue
    raise ValueError(f"cannot read the date {text!r}; write it as YYYY-MM-DD (or 'March 5, 2024')")


def _has_time(text: str) -> bool:
    return ":" in text


def _add_months(day: datetime, months: int) -> datetime:
    """Calendar months; the day is clamped to the month's end (Jan 31 + 1 month = Feb 28 or 29)."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    if not 1 <= year <= 9999:
        raise ValueError("the result is outside years 1 to 9999")
    last = calendar.monthrange(year, month + 1)[1]
    return day.replace(year=year, month=month + 1, day=min(day.day, last))


def _weekday_index(name: str) -> int:
    matches = [i for i, day in enumerate(WEEKDAYS) if day.lower().startswith(name.strip().lower()[:3])]
    if len(name.strip()) < 3 or len(matches) != 1:
        raise ValueError(f"unknown weekday {name!r}; use Monday ... Sunday")
    return matches[0]


@mcp.tool
def day_of_week(date: str) -> str:
    """The weekday of a date: Monday to Sunday.

    day_of_week("2024-07-04") gives "Thursday".

    Args:
        date: The date, e.g. "2024-07-04" or "July 4, 2024".
    """
    return WEEKDAYS[_parse(date).weekday()]


@mcp.tool
def date_info(date: str) -> dict[str, int | str | bool]:
    """Facts about a date: weekday, day of the year, ISO week, quarter, leap year, days in its month.

    date_info("2024-03-01") gives {"date": "2024-03-01", "weekday": "Friday", "day_of_year": 61,
    "iso_week": 9, "quarter": 1, "is_leap_year": True, "days_in_month": 31}.

    Args:
        date: The date, e.g. "2024-03-01".
    """
    day = _parse(date).date()
    return {
        "date": day.isoformat(),
        "weekday": WEEKDAYS[day.weekday()],
        "day_of_year": day.timetuple().tm_yday,
        "iso_week": day.isocalendar().week,
        "quarter": (day.month - 1) // 3 + 1,
        "is_leap_year": calendar.isleap(day.year),
        "days_in_month": calendar.monthrange(day.year, day.month)[1],
    }


@mcp.tool
def add_to_date(
    date: str, years: int = 0, months: int = 0, weeks: int = 0, days: int = 0, hours: int = 0, minutes: int = 0
) -> str:
    """Add (or, with negative numbers, subtract) an amount of time to a date or date-time.

    add_to_date("2024-01-31", months=1) gives "2024-02-29" (clamped to the month's end);
    add_to_date("2024-03-10", days=-15) gives "2024-02-24"; with a time,
    add_to_date("2024-03-10 22:30", hours=3) gives "2024-03-11 01:30:00".

    Args:
        date: The starting date ("YYYY-MM-DD") or date-time ("YYYY-MM-DD HH:MM").
        years: Whole years to add.
        months: Calendar months to add.
        weeks: Weeks to add.
        days: Days to add.
        hours: Hours to add.
        minutes: Minutes to add.
    """
    start = _parse(date)
    try:
        moved = _add_months(start, years * 12 + months) + timedelta(
            weeks=weeks, days=days, hours=hours, minutes=minutes
        )
    except OverflowError:
        raise ValueError("the result is outside years 1 to 9999") from None
    return moved.isoformat(sep=" ") if _has_time(date) or hours or minutes else moved.date().isoformat()


@mcp.tool
def days_between(start: str, end: str, weekdays_only: bool = False) -> int:
    """Days from start to end (negative if end is earlier); the start day is not counted.

    days_between("2024-01-01", "2024-12-25") gives 359; with weekdays_only=True only Monday to
    Friday are counted: days_between("2024-07-01", "2024-07-08", True) gives 5.

    Args:
        start: The first date.
        end: The second date.
        weekdays_only: Count only Monday to Friday (business days, holidays not excluded).
    """
    first, last = _parse(start).date(), _parse(end).date()
    if not weekdays_only:
        return (last - first).days
    sign = 1 if last >= first else -1
    low, high = min(first, last), max(first, last)
    weeks, extra = divmod((high - low).days, 7)
    count = weeks * 5 + sum((low + timedelta(days=k)).weekday() < 5 for k in range(1, extra + 1))
    return sign * count


@mcp.tool
def date_difference(start: str, end: str) -> dict[str, int]:
    """The calendar difference from start to end in years, months and days, plus totals.

    date_difference("1990-05-17", "2024-03-01") gives {"years": 33, "months": 9, "days": 13,
    "hours": 0, "minutes": 0, "total_days": 12342, "total_seconds": 1066348800}: an age is the
    "years" field. Date-times ("YYYY-MM-DD HH:MM") also give hours and minutes.

    Args:
        start: The earlier date or date-time.
        end: The later date or date-time.
    """
    first, last = _parse(start), _parse(end)
    if last < first:
        raise ValueError("end is before start; swap them")
    months = (last.year - first.year) * 12 + last.month - first.month
    if _add_months(first, months) > last:
        months -= 1
    rest = last - _add_months(first, months)
    return {
        "years": months // 12,
        "months": months % 12,
        "days": rest.days,
        "hours": rest.seconds // 3600,
        "minutes": rest.seconds % 3600 // 60,
        "total_days": (last - first).days,
        "total_seconds": int((last - first).total_seconds()),
    }


@mcp.tool
def month_calendar(year: int, month: int) -> str:
    """A month laid out as a text calendar, weeks starting on Monday.

    Args:
        year: The year, e.g. 2024.
        month: The month, 1 to 12.
    """
    if not 1 <= month <= 12 or not 1 <= year <= 9999:
        raise ValueError("month must be 1 to 12 and year 1 to 9999")
    return calendar.TextCalendar(calendar.MONDAY).formatmonth(year, month).rstrip()


@mcp.tool
def nth_weekday(year: int, month: int, weekday: str, n: int) -> str:
    """The date of the n-th given weekday of a month; n = -1 is the last one.

    US Thanksgiving 2024, the 4th Thursday of November: nth_weekday(2024, 11, "Thursday", 4)
    gives "2024-11-28"; nth_weekday(2024, 5, "Monday", -1) gives "2024-05-27".

    Args:
        year: The year.
        month: The month, 1 to 12.
        weekday: "Monday" ... "Sunday" (three letters are enough).
        n: 1 to 5 counting from the start, -1 to -5 from the end.
    """
    if not 1 <= month <= 12 or not 1 <= year <= 9999:
        raise ValueError("month must be 1 to 12 and year 1 to 9999")
    target = _weekday_index(weekday)
    days = [
        d for d in range(1, calendar.monthrange(year, month)[1] + 1) if datetime(year, month, d).weekday() == target
    ]
    if n == 0 or abs(n) > len(days):
        raise ValueError(f"{calendar.month_name[month]} {year} has {len(days)} {WEEKDAYS[target]}s")
    return datetime(year, month, days[n - 1 if n > 0 else n]).date().isoformat()
