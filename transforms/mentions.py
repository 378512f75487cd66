"""Every date an article's body mentions, normalised to an ISO day or month, with character offsets.

Finding and normalising are kept apart, because a date parser let loose on running text finds dates in
"100M", "5/8" and "six years" (dateparser's search_dates does, measured on Reuters):

- finding is done here with narrow patterns: full dates (the dates stage's reader), a month with a year
  ("March 2017", "octubre de 2017"), a day and month without a year ("Feb 26"), and in the article's
  language a weekday ("on Friday": the latest Friday not after the article, that day included, as wire
  copy writes "said on Monday" on Monday), a relative day or period ("yesterday", "last month") or a
  month after a preposition ("in October": the latest such month not after the article);
- what a relative expression means is asked of dateparser, with the article's language pinned and the
  publication date as RELATIVE_BASE (past preferred: news reports what happened). Its answer's period
  gives the granularity (a month for "last month", a day for "yesterday").

Year-less days take the year that puts them closest to the publication date (an article in January may
announce a February meeting). Without a publication date only absolute dates are kept.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import re

from schemas.records import Document
from transforms.date_mentions import find_dates
from transforms.lexicon import MONTHS

DAY, MONTH = "day", "month"
MAX_TEXT_CHARS = 200_000  # a body longer than this is searched only this far
DATEPARSER_LANGUAGES = ("en", "de", "fr", "es", "pt", "it", "ru")

# Relative expressions, per language: a weekday, a day or period relative to the article's date, a month
# after a preposition. Group "core" is what dateparser reads; the mention's offsets are the core's.
_WEEKDAY_NAMES = {  # Monday first; several forms of one day are joined with "/"
    "en": "monday tuesday wednesday thursday friday saturday sunday",
    "de": "montag dienstag mittwoch donnerstag freitag samstag/sonnabend sonntag",
    "fr": "lundi mardi mercredi jeudi vendredi samedi dimanche",
    "es": "lunes martes miércoles jueves viernes sábado domingo",
    "pt": "segunda-feira terça-feira quarta-feira quinta-feira sexta-feira sábado domingo",
    "it": "lunedì martedì mercoledì giovedì venerdì sabato domenica",
    "ru": "понедельник вторник среду/среда четверг пятницу/пятница субботу/суббота воскресенье",
}
_WEEKDAYS = {
    language: {form: weekday for weekday, forms in enumerate(names.split()) for form in forms.split("/")}
    for language, names in _WEEKDAY_NAMES.items()
}
_RELATIVE = {
    "en": r"yesterday|today|tomorrow|(?:last|next|this) (?:week|month|year)",
    "de": r"gestern|heute|(?:letzte[nm]?|vorige[nm]?|nächste[nm]?|diese[nm]?) (?:woche|monat|jahr)",
    "fr": r"hier|aujourd'hui|demain|(?:la semaine|le mois|l'année) (?:dernière|dernier|prochaine|prochain)",
    "es": r"ayer|hoy|(?:la semana|el mes|el año) (?:pasada|pasado|próxima|próximo)",
    "pt": r"ontem|hoje|amanhã|(?:a semana|o mês|o ano) (?:passada|passado|que vem)",
    "it": r"ieri|oggi|domani|(?:la settimana|il mese|l'anno) (?:scorsa|scorso|prossima|prossimo)",
    "ru": r"вчера|сегодня|завтра|(?:на прошлой|на следующей) неделе|(?:в прошлом|в следующем) (?:месяце|году)",
}
_MONTH_PREPOSITIONS = {
    "en": "in", "de": "im", "fr": "en", "es": "en", "pt": "em", "it": "in|a", "ru": "в",
}
# Month names are found word by word (a dictionary lookup), then the few characters around each are
# matched: one alternation of every month name in 8 languages over a whole text costs 40x more.
_WORD = re.compile(r"[^\W\d_]+\.?")
_YEAR_AFTER = re.compile(r"(?: de)? (\d{4})\b")  # "March 2017", "octubre de 2017"
_DAY_AFTER = re.compile(r" (\d{1,2})(?:st|nd|rd|th)?\b(?!,? \d{4})")  # "Feb 26"
_DAY_BEFORE = re.compile(r"(?<!\d)(\d{1,2})\.? $")  # "26 Feb", "26. Februar"


@dataclasses.dataclass(frozen=True)
class MentionedDate:
    text: str  # as written
    start: int  # character offsets into the article's text
    end: int
    date: str  # "2017-11-03" (day) or "2017-11" (month)
    granularity: str  # "day" or "month"


# ---------------------------------------------------------------------------------------------
# Plain functions (tested without Beam)
# ---------------------------------------------------------------------------------------------


@functools.cache
def _relative_pattern(language: str) -> re.Pattern | None:
    if language not in _WEEKDAYS:
        return None
    months = "|".join(re.escape(name) for name in sorted(MONTHS, key=len, reverse=True) if len(name) > 3)
    alternatives = [
        rf"(?P<core>{_RELATIVE[language]})",
        rf"(?P<weekday>{'|'.join(sorted(_WEEKDAYS[language], key=len, reverse=True))})",
        rf"(?:{_MONTH_PREPOSITIONS[language]}) (?P<month>{months})(?! \d)",
    ]
    return re.compile(r"(?i)(?<![\w-])(?:" + "|".join(alternatives) + r")(?![\w-])")


@functools.lru_cache(maxsize=512)
def _parser(language: str, base: dt.datetime):
    """dateparser with the language pinned and the article's date as the base of relative expressions
    (cached: a dump's articles share few publication dates)."""
    from dateparser.date import DateDataParser  # heavy import: only stages that need it pay

    settings = {"PREFER_DATES_FROM": "past", "RETURN_TIME_AS_PERIOD": False, "RELATIVE_BASE": base}
    return DateDataParser(languages=[language], settings=settings)


def _as_iso(day: dt.date, granularity: str) -> str:
    return day.isoformat() if granularity == DAY else f"{day.year:04d}-{day.month:02d}"


def nearest_year(month: int, day: int, reference: dt.date) -> dt.date | None:
    """The date with this month and day closest to `reference` (the year before, of, or after it)."""
    options = []
    for year in (reference.year - 1, reference.year, reference.year + 1):
        try:
            options.append(dt.date(year, month, day))
        except ValueError:
            continue
    return min(options, key=lambda d: abs((d - reference).days)) if options else None


@functools.lru_cache(maxsize=4096)
def _relative_date(expression: str, language: str, published: dt.date) -> tuple[dt.date, str] | None:
    """(date, granularity) dateparser reads in a relative expression, against the publication date.

    Cached: dateparser takes 1-2 ms an expression, and a dump's articles share few publication dates
    and fewer expressions ("on Monday", "last week"); on Reuters 9 calls in 10 are repeats."""
    data = _parser(language, dt.datetime.combine(published, dt.time(12))).get_date_data(expression)
    if data is None or data.date_obj is None or data.period == "year":
        return None  # "last year" names a year, not a day or a month
    return data.date_obj.date(), MONTH if data.period == "month" else DAY


def _month_words(text: str):
    """(start, end, month number) of every word that is a month name (an abbreviation with its dot)."""
    for match in _WORD.finditer(text):
        month = MONTHS.get(match[0].lower().rstrip("."))
        if month:
            start = match.start()
            if start == 0 or not text[start - 1].isalnum():
                yield start, match.end(), month


def mentioned_dates(text: str, published: dt.date | None, language: str | None) -> list[MentionedDate]:
    """Every date mentioned in `text` (see the module doc), in order of position."""
    text = text[:MAX_TEXT_CHARS]
    found: list[MentionedDate] = []
    taken: list[tuple[int, int]] = []

    def free(start: int, end: int) -> bool:
        return all(end <= a or start >= b for a, b in taken)

    def add(start: int, end: int, day: dt.date, granularity: str) -> None:
        taken.append((start, end))
        found.append(MentionedDate(text[start:end], start, end, _as_iso(day, granularity), granularity))

    for mention in find_dates(text):
        add(mention.start, mention.end, dt.date(mention.year, mention.month, mention.day), DAY)
    for start, end, month in _month_words(text):
        year = _YEAR_AFTER.match(text, end)
        if year and free(start, year.end()):
            add(start, year.end(), dt.date(int(year[1]), month, 1), MONTH)
            continue
        if published is None:
            continue
        after = _DAY_AFTER.match(text, end)
        before = None if after else _DAY_BEFORE.search(text, max(0, start - 4), start)
        # "26 Feb." ends a sentence: the dot is the sentence's, not the abbreviation's.
        span = (start, after.end()) if after else (before.start(), end - text.endswith(".", 0, end)) if before else None
        day = nearest_year(month, int((after or before)[1]), published) if span else None
        if day and free(*span):
            add(*span, day, DAY)
    if published is not None:
        pattern = _relative_pattern(language or "")
        for match in pattern.finditer(text) if pattern else ():
            group = "core" if match["core"] else "weekday" if match["weekday"] else "month"
            start, end = match.span(group)
            if not free(start, end):
                continue
            if group == "month":  # "in October": the latest October not after the article
                month = MONTHS[match[group].lower()]
                add(start, end, dt.date(published.year - (month > published.month), month, 1), MONTH)
                continue
            if group == "weekday":  # "on Friday": the latest Friday not after the article, that day included
                weekday = _WEEKDAYS[language][match[group].lower()]
                add(start, end, published - dt.timedelta(days=(published.weekday() - weekday) % 7), DAY)
                continue
            resolved = _relative_date(match[group], language, published)
            if resolved:
                add(start, end, *resolved)
    found.sort(key=lambda m: m.start)
    return found


def mention_document(doc: Document) -> Document:
    """The document with `mentioned_dates` filled from its body."""
    return dataclasses.replace(doc, mentioned_dates=mentioned_dates(doc.text, doc.published_date, doc.language))
