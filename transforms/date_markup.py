"""What an HTML page's markup says: the dates its fields name (meta tags, JSON-LD, <time>), the web
address it states for itself, and a rough text of the page to read the dates written in it."""
from __future__ import annotations

import datetime as dt
import html
import re

from transforms.date_mentions import find_dates, valid_date
from transforms.date_scoring import SCORE_DATE_LINE, Candidate

# Cheap HTML to text, for HTML pages: scripts and styles out, tags become line breaks.
_HTML_DROP = re.compile(r"(?is)<(script|style|noscript)\b.*?</\1\s*>|<!--.*?-->")
# A tag opens with a letter, "/", "!" or "?" and never holds "<": a stray "<" in the text does not swallow
# the text up to the next tag, and a tag of many long attributes (JSON in data-*) does not leak them as text.
_HTML_TAG = re.compile(r"<[A-Za-z/!?][^<>]*>")


# ---------------------------------------------------------------------------------------------
# Dates in the HTML markup (metadata), read from the raw page
# ---------------------------------------------------------------------------------------------

# The markup names the publication date: <meta property="article:published_time">, JSON-LD "datePublished",
# <time itemprop="datePublished">. Keys are compared lowercased, without "og:" and "dc."/"dcterms." prefixes.
PUBLISHED_KEYS = frozenset({
    "article:published_time", "published_time", "article:published", "datepublished", "date_published",
    "publishdate", "publish-date", "publish_date", "pubdate", "pub_date", "date.issued", "issued",
    "sailthru.date", "parsely-pub-date", "cxenseparse:publishtime", "article.published", "published-time",
    "vr:published-time", "citation_publication_date", "datecreated", "date.created", "created",
})
# The modification day is later than the publication: alone it only dates a page that says nothing else,
# but it confirms a date the page shows (see `confirmed`).
MODIFIED_KEYS = frozenset({
    "article:modified_time", "modified_time", "updated_time", "datemodified", "date_modified", "last-modified",
    "lastmod", "date.modified", "modified", "article:updated_time",
})
# A bare "date" (<meta name="date">, Dublin Core dc.date) is most often the publication, sometimes not.
PLAIN_DATE_KEYS = frozenset({"date"})
MARKUP_SCORES = {"published": 0.85, "date": SCORE_DATE_LINE, "modified": 0.35}
# A UTC time this close to midnight may fall on another day where the site is (New York is UTC-5, Berlin
# UTC+1): such a day is not trusted more than a date shown in the byline area.
UTC_DAY_MARGIN_HOURS = 6
SCORE_MARKUP_UTC_NEAR_MIDNIGHT = 0.60
# The markup sits in the head of the page and in the article's tags; megabytes of scripts come after.
MARKUP_SCAN_CHARS = 300_000
_MARKUP_TAG = re.compile(r"(?is)<(meta|time)\b([^>]{0,2000})>")
_MARKUP_ATTRIBUTE = re.compile(r"""(?s)([\w:.\-]+)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+))""")
_ADDRESS_TAG = re.compile(r"(?is)<(?:link|meta)\b([^>]{0,2000})>")
_JSON_DATE = re.compile(r'"(date(?:Published|Created|Modified))"\s*:\s*"([^"]{6,40})"')
_KEY_PREFIX = re.compile(r"^(?:og:|dc\.|dcterms\.)")
_ISO_DATE_TIME = re.compile(
    r"\s*(?P<y>(?:19|20)\d\d)-(?P<m>\d\d?)-(?P<d>\d\d?)(?!\d)"
    r"(?:[T ](?P<hour>\d\d):\d\d(?::\d\d)?(?:\.\d+)?\s*(?P<zone>Z|[+-]\d\d:?\d\d)?)?"
)


def markup_candidates(html: str) -> list[Candidate]:
    """The dates the HTML markup names, one per kind (published, plain date, modified): the first one.

    Later ones of a kind are other stories' (related links) or reader comments (<time itemprop=...>).
    """
    firsts: dict[str, tuple[dt.date, bool]] = {}
    local_days = set()  # days some field writes in the site's own time
    for key, value in _markup_fields(html[:MARKUP_SCAN_CHARS]):
        kind = _markup_kind(key)
        day, uncertain = _markup_day(value) if kind else (None, False)
        if day:
            firsts.setdefault(kind, (day, uncertain))
            if not uncertain:
                local_days.add(day)
    return [
        Candidate(day, "html-markup", _markup_score(kind, uncertain and day not in local_days), -1)
        for kind, (day, uncertain) in firsts.items()
    ]


def stated_address(html: str) -> str | None:
    """The web address a page states for itself: its canonical link, else its og:url (a date in it is as
    good as one in the address the input gives)."""
    found = {}
    for match in _ADDRESS_TAG.finditer(html[:MARKUP_SCAN_CHARS]):
        attributes = _attributes(match[1])
        if attributes.get("rel", "").lower() == "canonical":
            found.setdefault("canonical", attributes.get("href", ""))
        elif attributes.get("property", "").lower() == "og:url":
            found.setdefault("og:url", attributes.get("content", ""))
    address = found.get("canonical") or found.get("og:url") or ""
    return address if address.startswith(("http://", "https://")) else None


def _markup_score(kind: str, uncertain_day: bool) -> float:
    score = MARKUP_SCORES[kind]
    return min(score, SCORE_MARKUP_UTC_NEAR_MIDNIGHT) if uncertain_day else score


def _markup_fields(html: str):
    """(key, value) pairs of the markup in page order: meta tags, <time> tags and JSON(-LD) date fields."""
    fields = []
    for match in _MARKUP_TAG.finditer(html):
        attributes = _attributes(match[2])
        if match[1].lower() == "meta":
            key = attributes.get("property") or attributes.get("name") or attributes.get("itemprop") or ""
            value = attributes.get("content", "")
        else:
            key = _time_key(attributes)
            value = attributes.get("datetime") or attributes.get("content") or ""
        fields.append((match.start(), key, value))
    fields += [(match.start(), match[1], match[2]) for match in _JSON_DATE.finditer(html)]
    return [(key, value) for _, key, value in sorted(fields)]


def _attributes(tag: str) -> dict[str, str]:
    """The attributes of a tag's text (`name="value"`, `name='value'`, `name=value`), names lowercased."""
    return {m[1].lower(): m[2] or m[3] or m[4] or "" for m in _MARKUP_ATTRIBUTE.finditer(tag)}


def _time_key(attributes: dict[str, str]) -> str:
    """What a <time> tag dates: its itemprop, a "pubdate" flag, or a published/updated word in its class."""
    if attributes.get("itemprop"):
        return attributes["itemprop"]
    if "pubdate" in attributes:
        return "pubdate"
    css = attributes.get("class", "").lower()
    if "publish" in css or "created" in css:
        return "published_time"
    if "updat" in css or "modif" in css:
        return "modified_time"
    return ""  # a plain <time>: its text is read with the page's text


def _markup_kind(key: str) -> str | None:
    """"published", "modified" or a plain "date" (a key of MARKUP_SCORES), or None: not a date field."""
    key = _KEY_PREFIX.sub("", key.strip().lower())
    for kind, keys in (("published", PUBLISHED_KEYS), ("modified", MODIFIED_KEYS), ("date", PLAIN_DATE_KEYS)):
        if key in keys:
            return kind
    return None


def _markup_day(value: str) -> tuple[dt.date | None, bool]:
    """The day of a markup value, and whether that day is uncertain.

    ISO "2021-05-03T10:00:00+02:00" gives the day as written (the site's own time zone). A UTC time near
    midnight ("2021-05-04T02:10:00Z") may be the day before or after where the site is: uncertain.
    Other values are read as text ("03.05.2021 10:00").
    """
    match = _ISO_DATE_TIME.match(value)
    if match:
        year, month, day = int(match["y"]), int(match["m"]), int(match["d"])
        if not valid_date(year, month, day):
            return None, False
        hour = int(match["hour"]) if match["hour"] else None
        utc = bool(match["zone"]) and match["zone"].strip(":0+-Z") == ""
        near_midnight = hour is not None and (hour < UTC_DAY_MARGIN_HOURS or hour >= 24 - UTC_DAY_MARGIN_HOURS)
        return dt.date(year, month, day), utc and near_midnight
    mentions = find_dates(value)
    return (dt.date(mentions[0].year, mentions[0].month, mentions[0].day) if mentions else None), False


def html_to_text(page: str) -> str:
    """A rough text of an HTML page, enough to read the dates written in it."""
    return html.unescape(_HTML_TAG.sub("\n", _HTML_DROP.sub(" ", page)))
