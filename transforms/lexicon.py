"""Words and line shapes that more than one stage recognises: what a word is, month names, headline tickers.

Kept in one place so that the clean stage (which removes chrome) and the dates stage (which must not
read dates from chrome) agree on what a month and a ticker are.
"""
from __future__ import annotations

import re

# A word: a run of anything but spaces and punctuation. Not \w+, which breaks Bengali or Hindi words
# at their vowel signs (combining marks are not \w) and so hides their stopwords.
WORD = re.compile(r"[^\s!-/:-@\[-`{-~\u00a1-\u00bf\u2010-\u2027\u2030-\u205e\u3000-\u303f]+")
_MONTH_NAMES = {
    1: "january jan januar jänner jaenner janvier janv enero ene janeiro gennaio gen januari "
    "января январе январь янв",
    2: "february feb febr februar février fevrier févr fevr fév fev febrero febr fevereiro febbraio "
    "februari февраля феврале февраль фев",
    3: "march mar märz maerz mrz mär mars marzo março marco maart mrt марта марте март мар",
    4: "april apr avril avr abril aprile апреля апреле апрель апр",
    5: "may mai mayo maio maggio mag mei мая мае май",
    6: "june jun juni juin junio junho giugno giu июня июне июнь июн",
    7: "july jul juli juillet juil julio julho luglio lug июля июле июль июл",
    8: "august aug août aout agosto ago augustus августа августе август авг",
    9: "september sep sept septembre septiembre setiembre setembro settembre set сентября сентябре сентябрь сен",
    10: "october oct oktober okt octobre octubre outubro ottobre ott октября октябре октябрь окт",
    11: "november nov novembre noviembre novembro ноября ноябре ноябрь ноя",
    12: "december dec dezember dez décembre decembre déc diciembre dic dezembro dicembre декабря декабре декабрь дек",
}
# Month names and abbreviations (lower case) in English, German, French, Spanish, Portuguese, Italian,
# Dutch and Russian (genitive, nominative and prepositional: "в октябре"), with the month's number.
MONTHS = {name: number for number, names in _MONTH_NAMES.items() for name in names.split()}
# A regular expression for any of them (lower case; longest first so "june" wins over "jun").
MONTH_PATTERN = "(?:" + "|".join(re.escape(name) for name in sorted(MONTHS, key=len, reverse=True)) + r")\.?"

# A headline ticker strings other stories' headlines on one line: "A // B // C", "A | B | C | D".
TICKER_SLASHES = " // "
TICKER_MIN_SLASHES = 2
TICKER_SEPARATORS = (" // ", " | ", "   ", " • ", " · ")
TICKER_MIN_SEPARATORS = 3
TICKER_MIN_CHARS = 60


def is_ticker(line: str, min_chars: int = TICKER_MIN_CHARS, min_separators: int = TICKER_MIN_SEPARATORS) -> bool:
    """A line of other stories' headlines. Stages that lose more by a false alarm (a byline such as
    "By Jane Roe | Staff | 3 May 2021" carries the article's date) ask for a longer line."""
    if line.count(TICKER_SLASHES) >= TICKER_MIN_SLASHES:
        return True
    if len(line) < min_chars:
        return False
    return sum(line.count(separator) for separator in TICKER_SEPARATORS) >= min_separators
