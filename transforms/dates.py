"""The dates stage: find when an article was published, from the text of its page.

Every signal becomes a `Candidate` (a date, where it came from, a score in 0..1, its place in the page):

| source      | signal                                                            | base score |
|-------------|-------------------------------------------------------------------|------------|
| dateline    | a wire dateline opening the body: "BEIRUT, Jan 20 (Reuters) -"     | 0.90       |
| byline      | a date after "Published/Posted/Veröffentlicht/..." on its line     | 0.90       |
| url         | a full date in a web address: /2018/06/28/                         | 0.85       |
| declared    | the publication date an export states (a JSON Lines date field)  | 0.85       |
| html-markup | the markup's first published-date field (meta, JSON-LD, <time>)   | 0.85       |
| html-meta   | the date the HTML extractor found in the page metadata (`hint`)   | 0.80       |
|             | ... as sure as a markup field of the same day; else (none) 0.60 | 0.45-0.85  |
| htmldate    | the day htmldate finds in the markup: as sure as the hint         | 0.45-0.85  |
| url         | ... also from the address the page states (canonical, og:url)     | 0.85       |
| timestamp   | a Unix epoch (s, ms, us or ns) on a line of its own               | 0.80       |
| byline      | a date after an author ("By Jane Roe, 3 May 2021", "von X ·")      | 0.75       |
| path        | a full date in a file path: .../2021-03-04/story.txt              | 0.60       |
| header      | a date line in the first lines of the page (often the crawl day)  | 0.50       |
| page        | any other date in the page, by the shape of its line: a date line | 0.45       |
|             | ... in a short line / in a sentence / on a reader comment         | 0.35/0.15/0.10 |
| byline      | a date after "Updated/Aktualisiert/Stand/..." (later than publ.)  | 0.40       |
| html-markup | a plain "date" field (<meta name="date">): ranks with a date line | 0.45       |
| html-markup | the modification time (article:modified_time, dateModified)       | 0.35       |
| timestamp   | an epoch line inside or after the article (a cache key, a counter) | 0.35       |
| htmldate-text | the day htmldate's search of the text finds (not January 1)      | 0.35       |
|             | ... of a text page: a weak candidate it picks, when none is trusted | 0.30       |
| fetched     | the day a crawler fetched the page (WARC-Date): the last resort    | 0.30       |

Dates written in the page then move with their position: in the byline area around the title and the
first body lines they gain (so a date line there beats the header), after the article (comments,
"related posts") they lose, and so do dates in a listing (three or more dates written alike, a few
lines apart: related links, archives, galleries, comments) or under a heading over other stories
("Related", "Lesen Sie auch"); the first date of the page gains a little; a date in the month of a
/YYYY/MM/ web address gains too. Chrome is never a candidate: dates on a headline-ticker line (` // `
separators), a run of digits glued to a label ("01262020What's Hot:"), copyright lines, dates
after the reference day. A date shown in the page (a date line, a byline) that a markup field or the hint
names too gains 0.45: that is the date the page stands by, even when the markup calls it the modification
(an ambiguous 03/04/2021 is read the way the markup confirms). A UTC time within 6 hours of midnight in the
markup may be another day where the site is: it scores 0.60, unless a field writes that day in local time.
The highest score wins, the earlier one on a tie; below `CONFIDENCE_THRESHOLD` the answer
is "no date". A wire dateline or byline in the article beats a header date (often the crawl day), which
wins when it is the only signal; on the first line, later than a date line the page shows, it is the
crawl day.

Year-less dates ("SALVADOR, Feb 26 -") take the closest year that is not after the reference: the given
`reference_date`, else a YYYY-MM-DD, YYYY-MM or YYYY folder of the source ("/1987-02/" -> Feb 28, 1987),
else the date an export states or the day a crawler fetched the page, else the day the file (or archive
member) was last modified.
Month names: English, German, French, Spanish, Portuguese, Italian, Russian, Dutch; numeric dates day
first (21.01.2017) unless only month first is valid or the page writes US dates.

HTML pages are also read by htmldate (`transforms/htmldates.py`), the library made for them: its day is one
more candidate, as sure as the markup field that names the same day (a shown date it names is confirmed);
a day only its search of the text finds is one more date of the text. The address a page states for itself
(canonical link, og:url) is read for dates when the input gives none. A text page with no trusted candidate
takes, as its last resort (confidence 0.3), the latest date htmldate finds in its text when that is one of
its own weak candidates (never chrome).

Speed: plain regular expressions, no dateparser; htmldate only for HTML pages. One fast pass finds the
years; the date patterns only read short windows around them, in the head of the page and around the
article start.

Where each part lives: reading dates in text and addresses in date_mentions.py, the reference day and
year-less dates in date_reference.py, where the article sits in the page in date_positions.py, the signals
in date_candidates.py (dateline, timestamp, address, hint, htmldate, stated), date_markup.py (HTML fields)
and date_page_candidates.py (dates written in the page), the scores and the choice in date_scoring.py;
here, the extractor end to end and the stage. Vocabulary shared with the clean stage (months, bylines,
copyright, tickers) is in lexicon.py.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import functools

import apache_beam as beam

from schemas.records import Document
from transforms import metrics
from transforms.date_candidates import (
    dateline_candidates,
    hint_candidates,
    htmldate_candidates,
    stated_candidates,
    timestamp_candidates,
    uri_candidates,
    weak_candidates_htmldate_picks,
)
from transforms.date_markup import html_to_text, markup_candidates, stated_address
from transforms.date_mentions import URI_YEAR_MONTH
from transforms.date_page_candidates import page_candidates
from transforms.date_positions import line_starts, locate_article, scan_ranges
from transforms.date_reference import as_date, latest_plausible, reference_from_uri
from transforms.date_scoring import NO_DATE, Candidate, DateResult, choose, confirmed, crawl_days_lowered
from transforms.identity import source_of
from transforms.routing import ApplyStage, check_time_limit

STAGE = metrics.DATES

# Bodies and pages past this length are cut before any work (a news article is far shorter).
MAX_INPUT_CHARS = 2_000_000


# ---------------------------------------------------------------------------------------------
# The extractor
# ---------------------------------------------------------------------------------------------


def _url_month(source_uri: str) -> tuple[int, int] | None:
    if not source_uri.startswith(("http://", "https://")):
        return None
    match = URI_YEAR_MONTH.search(source_uri)
    return (int(match[1]), int(match[2])) if match else None


def extract_publication_date(
    page: str,
    body: str,
    title: str | None,
    source_uri: str,
    reference_date: dt.date | None = None,
    hint: dt.date | None = None,
    modified_at: dt.date | None = None,
    site_lines: frozenset[int] = frozenset(),
    url: str | None = None,
    fetched_at: dt.date | None = None,
    declared: dt.date | None = None,
    html: str | None = None,
) -> DateResult:
    """The publication date of an article, where it was found, and how sure we are (see module doc).

    `page` is the whole page text (chrome included), `body` the clean article body, `hint` a date from
    the page metadata. Year-less dates are resolved against `reference_date`, else against a date folder
    in `source_uri`, else against the date the export states or the day a crawler fetched the page, else
    the file's modification day
    `modified_at`; dates after the reference (default: today) or after the fetch are not publication
    dates. `url` (the page's web address, when the input says) is read for dates instead of `source_uri`;
    `declared` is a date the export states.
    """
    body = (body or "")[:MAX_INPUT_CHARS]
    page = (page or "")[:MAX_INPUT_CHARS] or body  # a stage before us may have dropped the raw page
    html = html[:MAX_INPUT_CHARS] if html else None
    reference_date, hint = as_date(reference_date), as_date(hint)
    # A dump delivered in a dated folder (.../2024-03/...) cannot hold articles published after it:
    # a later date on such a page is the day it was crawled or re-served.
    latest = latest_plausible(reference_date or reference_from_uri(source_uri or ""))
    fetched = as_date(fetched_at)
    if fetched:  # nothing was published after the crawler fetched it
        latest = min(latest, latest_plausible(fetched))
    # A file cannot have been saved before its article was written: its day resolves year-less dates
    # when nothing better says when the dump was made (it is no upper bound: copies get new times).
    declared = as_date(declared)
    yearless_reference = (
        reference_date or reference_from_uri(source_uri or "") or declared or fetched or as_date(modified_at)
    )
    url = url or (stated_address(html) if html else None)
    candidates = collect_candidates(
        page, body, title, url or source_uri or "", latest, yearless_reference, hint, site_lines, html
    ) + stated_candidates(declared, fetched)
    check_time_limit()
    candidates = confirmed(crawl_days_lowered(candidates, page))
    result = choose(candidates, latest)
    if result == NO_DATE and not html:
        result = choose(weak_candidates_htmldate_picks(page, candidates, latest), latest)
    return result


def collect_candidates(
    page: str,
    body: str,
    title: str | None,
    source_uri: str,
    latest: dt.date,
    reference_date: dt.date | None = None,
    hint: dt.date | None = None,
    site_lines: frozenset[int] = frozenset(),
    html: str | None = None,
) -> list[Candidate]:
    """Every dated signal of a page, scored (see the module doc). `reference_date` resolves year-less
    dates (default: a date folder in `source_uri`); dates on `site_lines` are crawl dates; `html` is the
    raw page when it is HTML: the dates its markup names (`markup_candidates`) and htmldate's are read."""
    yearless_reference = reference_date or reference_from_uri(source_uri)
    starts = line_starts(page)
    article = locate_article(page, body, title, starts)
    ranges = scan_ranges(page, starts, article)
    markup = markup_candidates(html) if html else None
    return (
        dateline_candidates(body if body.strip() else page, yearless_reference)
        + timestamp_candidates(page, starts, ranges, article, latest)
        + uri_candidates(source_uri)
        + hint_candidates(hint, markup)
        + (htmldate_candidates(html, markup, latest) if html else [])
        + (markup or [])
        + page_candidates(page, starts, ranges, article, latest, _url_month(source_uri), site_lines)
    )


# ---------------------------------------------------------------------------------------------
# The stage
# ---------------------------------------------------------------------------------------------


def date_document(
    doc: Document, templates: dict[str, frozenset[int]] | None = None, reference_date: dt.date | None = None
) -> Document:
    """The document with its publication date filled; a document without a date goes on with None.

    `templates`: the lines each source prints on many stories (transforms/templates.py), by source.
    """
    doc.require(STAGE, "raw")
    page = html_to_text(doc.raw) if doc.content_type == "html" and doc.raw else doc.raw
    site_lines = (templates or {}).get(source_of(doc.address), frozenset())
    result = extract_publication_date(
        page, doc.text, doc.title, doc.source_uri, reference_date, doc.date_hint, doc.modified_at, site_lines,
        url=doc.url, fetched_at=doc.fetched_at, declared=doc.declared_date,
        html=doc.raw if doc.content_type == "html" else None,
    )
    # A new object: Beam elements must not be changed in place. The page's visible size (for the
    # boilerplate share) is measured here because this stage makes an HTML page's visible text anyway.
    return dataclasses.replace(
        doc, published_date=result.published_date, date_source=result.date_source, date_confidence=result.confidence,
        page_chars=len("".join(page.split())),
    )


class DateDocuments(beam.PTransform):
    """Documents -> documents with `published_date`; returns a tuple with `.documents` and `.rejects`."""

    def __init__(self, reference_date: dt.date | None = None, templates=None):
        super().__init__()
        self._reference_date = reference_date
        self._templates = templates  # (source, template line keys) from LearnTemplates, or None

    def expand(self, documents):
        stage = functools.partial(date_document, reference_date=self._reference_date)
        if self._templates is None:
            return documents | ApplyStage(STAGE, stage)
        return documents | ApplyStage(STAGE, stage, beam.pvalue.AsDict(self._templates))
