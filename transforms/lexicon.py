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

# --- bylines -------------------------------------------------------------------------------------------
# The words that open a byline: "By Ilse Marsh and Tom Reed", "von Max Muster", "par ...", "door ...".
BYLINE_WORDS = ("by", "von", "par", "por", "di", "door", "от")
# The clean stage: a lower-cased short line that is a byline (page metadata, not the story).
BYLINE = re.compile(rf"^(?:{'|'.join(BYLINE_WORDS)})\s+\S")
# The dates stage: "By Jane Roe | 3 May 2021": the author opens the line (inside a sentence "von" or "by" is
# any word).
AUTHOR_CUE = re.compile(rf"(?i)^[\W_]*+(?:{'|'.join((*BYLINE_WORDS, 'autor', 'author'))})\s+\S")

# --- copyright notices ---------------------------------------------------------------------------------
# Both are the site's, never the article's. The two tests differ (and are kept apart so that each stage
# does what it was measured doing): the clean stage searches a lower-cased line of furniture...
COPYRIGHT_LINE = re.compile(r"©|ⓒ|\(c\) ?\d{4}|copyright\b|all rights reserved")
# ...the dates stage the text around a date ("© 2014 Courier, 01.02.2014"), in any case.
COPYRIGHT_AROUND_DATE = re.compile(r"(?i)©|\(c\)|copyright|all rights reserved|alle rechte")

# --- headings over what is not the article -------------------------------------------------------------
# The clean stage: lines that announce what follows an article (other stories, comments): the article does
# not go on past them. Matched against the lower-cased line.
END_OF_ARTICLE = re.compile(
    r"""^[\W_]*+(?:
        related(?:\ (?:articles?|stories|posts|news|content|coverage))?
      | more\ on\ (?:the|this)\ (?:topic|story)|more\ stories|most\ (?:viewed|read|popular|shared)
      | recommended(?:\ for\ you)?|you\ (?:may|might)\ also\ like
      | comments?|leave\ a\ (?:comment|reply)|post\ a\ comment|read\ next|latest\ news(?:\ and\ articles)?
      | \d+\ (?:comments?|responses?|replies|reactions?)|(?:comments|responses|replies)\ \(\d+\)
      | \d+\ thoughts?\ on\ .{1,120}|(?:join|start)\ the\ (?:discussion|conversation)|discussion
      | (?:add|write|submit)\ (?:a|your)\ (?:comment|reply)|reader\ comments|(?:show|view|read)\ (?:all\ )?comments
      | das\ könnte\ sie\ auch\ interessieren|lesen\ sie\ auch|mehr\ zum\ thema|kommentare
      | noticias\ relacionadas|(?:también\ )?te\ puede\ interesar|comentarios|à\ lire\ aussi|commentaires
      | articles\ similaires|leggi\ anche|commenti
    )[\W_]*$""",
    re.VERBOSE,
)
# The dates stage: a heading over links to other stories: the dates in the lines below it are theirs.
RELATED_HEADING = re.compile(
    r"(?i)[\W_]*(?:related(?:\s+\w+)?|read\s+(?:more|also|next)|see\s+also|more\s+(?:on|from|about)\b.*|"
    r"you\s+(?:may|might)\s+also\s+like|recommended(?:\s+\w+)?|most\s+(?:read|popular)|latest\s+\w+|"
    r"lesen\s+sie\s+(?:auch|mehr)|mehr\s+zum\s+thema|auch\s+interessant|das\s+k[öo]nnte\s+sie\s+auch\s+interessieren|"
    r"weitere\s+\w+|ähnliche\s+\w+|verwandte\s+\w+|beliebte\s+\w+|meistgelesen\w*|neueste\s+\w+|letzte\s+\w+|"
    r"(?:à\s+)?lire\s+aussi|sur\s+le\s+même\s+sujet|voir\s+aussi|lee\s+también|te\s+puede\s+interesar|"
    r"noticias\s+relacionadas|leggi\s+anche|lees\s+ook|gerelateerd\w*)[\W_]*"
)
