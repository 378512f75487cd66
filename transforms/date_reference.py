"""The reference day of a page: the latest day it can be dated (a date after it is the future: chrome or
noise), and which year a year-less date ("SALVADOR, Feb 26 -") takes."""
from __future__ import annotations

import calendar
import datetime as dt

from transforms.date_mentions import URI_YEAR, URI_YEAR_MONTH, Mention, uri_dates, valid_date

# A date may be one day after the reference (time zones); later ones are in the future: chrome or noise.
FUTURE_SLACK = dt.timedelta(days=1)




def reference_from_uri(source_uri: str) -> dt.date | None:
    """The latest day a delivery folder allows: .../1987-02/x.txt -> 1987-02-28; .../2019/x -> 2019-12-31."""
    path = source_uri or ""
    full = uri_dates(path)
    if full:
        return full[-1]
    year_month = URI_YEAR_MONTH.findall(path)
    if year_month:
        year, month = int(year_month[-1][0]), int(year_month[-1][1])
        return dt.date(year, month, calendar.monthrange(year, month)[1])
    years = URI_YEAR.findall(path)
    if years:
        return dt.date(int(years[-1]), 12, 31)
    return None


def resolve_year(month: int, day: int, reference: dt.date) -> dt.date | None:
    """The latest date with this month and day that is not after `reference` (Feb 29 looks back 8 years)."""
    for year in range(reference.year, max(reference.year - 9, dt.MINYEAR - 1), -1):
        if valid_date(year, month, day) and dt.date(year, month, day) <= reference:
            return dt.date(year, month, day)
    return None


def mention_date(mention: Mention, reference: dt.date | None) -> dt.date | None:
    if mention.year is None:
        return resolve_year(mention.month, mention.day, reference) if reference else None
    return dt.date(mention.year, mention.month, mention.day)


def as_date(value) -> dt.date | None:
    """A date from a date or a datetime (a datetime does not compare with dates); None for anything else."""
    if isinstance(value, dt.datetime):
        return value.date()
    return value if isinstance(value, dt.date) else None


def latest_plausible(reference_date: dt.date | None) -> dt.date:
    reference = reference_date or dt.date.today()
    return reference + FUTURE_SLACK if reference < dt.date.max - FUTURE_SLACK else dt.date.max
