"""htmldate, the library made to date HTML pages, called on a page newsflow has already read.

It never downloads: htmldate fetches a string that looks like a web address, so the page goes in as
bytes, and no `url` is passed (htmldate would only read dates in it, which the dates stage does itself).
It never raises: a page it cannot parse has no htmldate day. It never answers after `latest`.
"""
from __future__ import annotations

import datetime as dt
import html
import logging

# htmldate logs an ERROR for every page it cannot parse: that is a page without an htmldate day, not an error.
logging.getLogger("htmldate").setLevel(logging.CRITICAL)


def htmldate_day(page_html: str, latest: dt.date, extensive: bool, original: bool = True) -> dt.date | None:
    """The day htmldate finds in the page, or None. `extensive`: also search the page's text when its
    markup names no date; `original`: the first publication (else the latest date, an update)."""
    import htmldate  # imported once per worker, by pipelines that see HTML

    try:
        found = htmldate.find_date(
            page_html.encode("utf-8", "surrogatepass"),
            extensive_search=extensive,
            original_date=original,
            max_date=dt.datetime.combine(latest, dt.time()),
        )
    except Exception:  # noqa: BLE001 - a third-party parser's failure on one page means no date, not a reject
        return None
    try:
        return dt.date.fromisoformat(found) if found else None
    except ValueError:
        return None


def text_as_html(text: str) -> str:
    """A text page as the simplest HTML page, one paragraph a line, for htmldate to search."""
    paragraphs = "".join(f"<p>{html.escape(line)}</p>\n" for line in text.split("\n") if line.strip())
    return f"<html><head></head><body>{paragraphs}</body></html>"
