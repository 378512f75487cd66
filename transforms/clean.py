"""The clean stage: from a whole scraped page to a title and an article body.

Text dumps (`clean_text_page`) carry no markup, so every decision rests on what a line still shows: its
length and word count, its stopword density in the page's language, terminal punctuation, its position,
whether it belongs to a run of short lines (menus), whether it is printed twice (captions, labels), and
its neighbours. The steps:

1. normalise: one kind of line break, no control or zero-width characters, plain spaces;
2. wire stories (headline, blank line, dateline, hard-wrapped body, " Reuter") are kept whole, re-flowed;
3. otherwise hard-wrapped passages are re-flowed into paragraphs, so a 65-column line is judged as part
   of its paragraph;
4. every line is classified as jusText classifies HTML blocks (bad / short / near-good / good, then
   context smoothing), with CCNet-style removal of repeated lines and runs of menu items;
5. the page is cut into blocks of article text at long stretches of chrome and at "Related" /
   "Comments" lines; the rules' article is the block under the headline the page names, else the
   densest block; it extends over a strip of ads in its middle;
6. the title is the headline: quoted by the page's name (the dump's first line), printed twice, or the
   nearest heading above the body; it is never repeated at the start of the body;
7. a page that prints nothing of a site's (no furniture, no bulleted links, no menu of sections) is a
   plain export of its story: every line but the title is the story, datelines, tables and lists too;
8. otherwise the body is what the learned line classifier (transforms/line_classifier.py) takes for
   article text, reading every measurement and decision above as features, with the line's neighbours
   and its page. Rules tuned on one corpus fit that corpus; the classifier is trained on six (its
   weights ship in transforms/data/). What the rules are sure of still holds: furniture, menus,
   metadata and captions printed twice are never kept; the body grows over the rules' article lines at
   its edges and in its holes, a story's dateline stays with it, and the rules' article stands in when
   the classifier finds none. (Each of these measured leave-one-corpus-out: benchmarks/README.md.)

HTML (`clean_html_page`) goes through trafilatura, which has the markup to do much better.

`clean_document` is the stage function: it fills `title`, `text`, `language` and `date_hint`, and raises
`Rejected` when no article body remains. `raw` stays as it is: the dates stage reads it afterwards.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import logging
import re
import unicodedata
from collections.abc import Iterable
from itertools import pairwise

import apache_beam as beam
import numpy as np

from schemas.records import Document
from transforms import metrics
from transforms.identity import hashed_words, line_key, words_key
from transforms.language import detect_language, stopwords_for
from transforms.lexicon import BYLINE, COPYRIGHT_LINE, END_OF_ARTICLE, MONTH_PATTERN, MONTHS, WORD, is_ticker
from transforms.line_classifier import LineClassifier, line_classifier
from transforms.line_features import RuleVerdict, line_features
from transforms.metrics import counter
from transforms.routing import ApplyStage, Rejected, check_time_limit

# --- jusText's thresholds (its defaults, which held up on aeb-text) ------------------------------------
LENGTH_LOW = 70  # characters: below this a line is "short" and judged by its neighbours
LENGTH_HIGH = 200  # characters: from here a line with enough stopwords is article text on its own
STOPWORDS_LOW = 0.30  # stopword density under which a line is not prose (lists, headline strips)
STOPWORDS_HIGH = 0.32  # stopword density from which a line reads as prose
NEARGOOD_RUN_CHARS = 300  # near-good lines in a row worth this many characters vouch for each other
SHORT_PROSE_MIN_CHARS = 30  # a short line this long, of this many words, dense in stopwords, is prose
SHORT_PROSE_MIN_WORDS = 5

# --- hard-wrapped text ---------------------------------------------------------------------------------
MIN_WRAP_WIDTH = 40  # text is hard-wrapped at 40..110 columns (Reuters: ~65, e-mail: ~72-80)
MAX_WRAP_WIDTH = 110
MIN_WRAPPED_LINES = 4  # fewer candidate lines than this is no evidence of hard wrapping
WRAPPED_SHARE = 0.6  # share of candidate lines that must end just under the wrap width...
WRAP_BAND = 0.25  # ...that is, within this fraction of it
WRAP_CARRY_ON_SHARE = 0.35  # share of candidate lines whose next line goes on in lower case (wire: ~0.7)

# --- lines --------------------------------------------------------------------------------------------
INSERT_MAX_LINES = 3  # a caption printed twice and an "ADVERTISEMENT" between paragraphs are inserts
MENU_RUN = 3  # this many menu-like short lines in a row are navigation, even between paragraphs
MENU_LINE_MAX_WORDS = 4  # a menu item is a few words without sentence punctuation
CHROME_LINE_MAX_WORDS = 25  # chrome is a few words: longer lines are not matched against its vocabulary
DATE_LINE_MAX_WORDS = 12  # a date with a few words around it ("Updated 1:39 am EST, ...") is metadata
BYLINE_MAX_WORDS = 8  # "By Ilse Marsh and Tom Reed"
END_MARKER_MAX_WORDS = 6  # "Related articles", "Leave a comment"
CONSENT_MAX_CHARS = 2000  # a cookie banner is a paragraph, not a page
REPEAT_MIN_CHARS = 8  # shorter repeated lines ("Share", "1") are judged by the other rules anyway
REPEAT_NEAR_LINES = 3  # a long line printed twice this close is a caption (image, then its enlargement)
LINE_CACHE_SIZE = 50_000  # lines whose features a worker remembers (about 25 MB)

# --- the article: good lines add their length, chrome between them costs a toll ----------------------
BAD_LINE_TOLL = 30  # characters of article a line of chrome costs (menus: many lines, each tolled)
BAD_LINE_SHARE = 0.5  # plus this share of the line's own length (long chrome costs more)...
BAD_LINE_TOLL_CAP = 150  # ...up to this: one long caption or ticker must not split an article
HARD_GAP_TOLL = 300  # chrome worth this much (about eight menu lines) separates two texts
CONTINUATION_MAX_GAP_TOLL = 1000  # an article resumes after at most this much chrome inside it...
CONTINUATION_MIN_SHARE = 0.5  # ...with text worth at least this share of what came before
DATELINE_ARTICLE_MAX_LINES = 60  # a wire brief found by its dateline is a few lines of figures
TABLE_MIN_ROWS = 4  # a page that is a table of results: this many rows with names and figures...
TABLE_ROW_MIN_WORDS = 2
TABLE_MAX_GAP = 2  # ...with at most this many lines without figures in a row between them

# --- the title ----------------------------------------------------------------------------------------
HEADING_MAX_WORDS = 25  # a title or subheading is a phrase, not a paragraph
TITLE_MAX_CHARS = 250
REPEATED_TITLE_MIN_WORDS = 4  # "Rating: 9 Votes" repeats too; a headline printed twice is longer
HEADLINE_MIN_WORDS = 4  # the nearest heading with this many words is preferred to a shorter one
TITLE_LOOKBACK = 40  # lines above the article that may hold its headline
TITLE_TO_BODY_GAP = 15  # lines of metadata (bylines, dates, share buttons) between headline and body
ANCHORED_MIN_SHARE = 0.1  # text under a repeated headline must be worth this share of the densest text

# --- language and verdict -----------------------------------------------------------------------------
LANGUAGE_SAMPLE_MIN_CHARS = 200  # fewer characters of sentences than this: sample the longest lines
LANGUAGE_SAMPLE_CHARS = 1000  # enough to name a language; the identifier costs ~0.5 µs a character
MIN_BODY_CHARS = 100  # a block under a named headline with less text than this is not its article
MIN_BODY_LETTERS = 25  # fewer letters left is "no article body" (a wire dividend brief has ~40)
# Work bounds: what no news page needs, so that one file cannot hold a worker for minutes.
MAX_PAGE_CHARS = 4_000_000  # a page's decoded text or HTML (the longest corpus page is under 1 MB)
MAX_HTML_TAGS = 100_000  # "<" in a page: heavy news pages have some 10,000 (trafilatura takes ~0.3 ms each)
MAX_WORD_CHARS = 1000  # a "word" longer than this is data (base64, a hash, a run of one letter)...
MAX_WORDLESS_SHARE = 0.5  # ...and a body mostly made of such runs is no text

# --- normalisation and words --------------------------------------------------------------------------
_LINE_BREAKS = re.compile(r"\r\n?|[\u2028\u2029\x85]")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u200b-\u200f\u2060\ufeff\u00ad]")
_SPACES = re.compile(r"[\u00a0\u1680\u2000-\u200a\u202f\u205f\u3000]")
_LETTERS = re.compile(r"[^\W\d_]")
_CLAUSE_MARKS = re.compile(r"[,.;:!?\u3001\u3002\uff0c\uff0e\uff1b\uff1a\uff01\uff1f]")  # Latin and CJK
_DIGIT = re.compile(r"\d")
_SENTENCE_END = re.compile(r"[.!?…。！？][\"'”’»)\]]*$")
_CLAUSE_END = re.compile(r"[.!?…。！？:;][\"'”’»)\]]*\s*$")
_CARRIES_ON = re.compile(r"\s*(?:[a-zß-ÿ]|[(“\"‘'])")  # a wrapped line's continuation: lower case, a quote
INDENT = re.compile(r"^(?: {2,}|\t)")  # a paragraph's first line in wire layout

# --- page chrome (matched against the lower-cased line) -----------------------------------------------
# Whole lines that are page furniture on any news site: generic vocabulary, no site's own strings.
# "*+" (possessive): the leading punctuation is never given back, so a line of 400,000 dashes costs one pass,
# not one per prefix length (the ".*" alternatives below made that quadratic).
_CHROME_LINE = re.compile(
    r"""^[\W_]*+(?:
        advertisements?|ad(?:vert)?|sponsored(?:\ content)?|promoted(?:\ content)?|paid\ content
      | anzeige|werbung|publicidad|publicité|pubblicità|reclame|реклама
      | share(?:\ this(?:\ (?:article|story|post))?)?|share\ (?:on|via)\ \w+|share\ this\ on\ \w+|tweet|print
      | email|e-mail|facebook|twitter|linkedin|whatsapp|pinterest|reddit|telegram
      | back\ to\ top|return\ to\ top|go\ to\ top|top|skip\ to\ (?:main\ )?content|menu|close|search
      | sign\ (?:in|up|out)|log\ ?in|log\ ?out|subscribe(?:\ (?:via|by)\ e-?mail|\ now)?|newsletter|follow\ us(?:\ on\ \w+)?
      | home(?:\ ?page)?|about(?:\ us)?|contact(?:\ us)?|privacy(?:\ policy)?|terms(?:\ of\ (?:use|service))?
      | cookie\ policy|site\ ?map|advertise(?:\ with\ us)?|careers|impressum|imprint|faq|help|give\ feedback
      | rss(?:\ feeds?)?(?:\ .{0,40})?
      | like\ us\ on\ facebook
      | related(?:\ (?:articles?|stories|posts|news|content|topics|coverage|tags|links))?
      | more\ (?:on\ (?:the|this)\ (?:topic|story|subject)|stories|news|from\ .{1,40}|like\ this)
      | most\ (?:viewed|read|popular|shared|commented|recent)|trending(?:\ now)?
      | popular(?:\ (?:posts|stories))?
      | recommended(?:\ (?:for\ you|stories|articles))?|you\ (?:may|might)\ (?:also\ )?like|also\ read
      | read\ more|read\ next|up\ next|latest(?:\ news)?(?:\ and\ articles)?|editor'?s\ picks?|don'?t\ miss
      | selected|comments?|\d+\ comments?|comments\ \(\d+\)|leave\ a\ (?:comment|reply)|post\ a\ comment
      | (?:view|show)\ comments|kommentare|commentaires|comentarios|commenti
      | source|sources|image\ source|photo|photos|video|gallery|caption|credits?|getty\ images|afp|reuters?|ap
      | tags?|topics?|filed\ under|categories|category
      | previous(?:\ (?:article|post))?|next(?:\ (?:article|post))?
      | loading|please\ wait|click\ here.*|clic\ here.*|continue\ reading|view\ (?:gallery|all|more)|see\ more
      | image\ \d+\ of\ /?\ ?\d+|\d+\ /\ \d+|back\ to\ gallery|enlarge\ this\ image|toggle\ \w+(?:\ \w+)?
      | thank\ you\ for\ (?:reading|reporting|subscribing|your\ feedback).*
      | (?:this|the)\ image\ will\ be\ automatically\ disabled.*
      | comments\ powered\ by\ .*|powered\ by\ .*|designed\ by\ .*|open\ graphic
      | copy\ link.*|enlarge\ (?:this\ )?image|read\ later|save\ for\ later|listen\ to\ this\ article
      | share\ close.*|.*\ sharing\ options|(?:artikel\ )?teilen|compartir|partager|condividi
      | read\ the\ original\ (?:story|article).*|originally\ published\ .*|report\ an\ error.*|republish
      | (?:this|the)\ (?:image|photo|picture|video|content)\ (?:will|is|may|can)\ .*
      | das\ könnte\ sie\ auch\ interessieren|lesen\ sie\ auch|mehr\ zum\ thema|noticias\ relacionadas
      | (?:también\ )?te\ puede\ interesar|à\ lire\ aussi|articles\ similaires|leggi\ anche
    )[\W_]*$""",
    re.VERBOSE,
)
# Cookie walls: a line about cookies that speaks to the reader. An article about cookie rules uses the
# same words, but not as "we use cookies" / "you accept".
_CONSENT = re.compile(
    r"\bcookies?\b.*\b(?:you|your|we use|our partners|by continuing|by clicking"
    r"|sie|ihre|vous|votre|usted|você)\b"
    r"|\b(?:we use|our partners use|wir verwenden|nous utilisons|utilizamos)\b.*\bcookies?\b"
)
# WordPress shortcodes left in the text: [custom-twitter-feeds]
_SHORTCODE = re.compile(r"^\[[\w-]+(?:\s[^\]]*)?\]$")
_BULLET = re.compile(r"^[•·▪►»*>-]\s")  # a list item is not a headline
# A site's sections, as its menu names them.
_SECTION = re.compile(
    r"^[\W_]*+(?:news|sports?|weather|opinions?|business|politics|world|u\.?s\.?|uk|local|national|international"
    r"|entertainment|lifestyle|culture|arts?|tech(?:nology)?|science|health|travel|videos?|economy|markets?|money"
    r"|food|style|education|environment|autos?|real estate|obituaries|podcasts?|newsletters?|more)[\W_]*$"
)
_LINK_BULLET = re.compile(r"^[•·▪►]\s+\w[^.!?]*$")  # "• Read Our Blog" (a story's lists use dashes too)
_URL_ONLY = re.compile(r"^(?:https?://|www\.)\S+$")
_PHOTO_CREDIT = re.compile(r"^(?:photo|image|picture|credit|foto|bild|source|quelle)s?\s*(?:by)?\s*:")
# A headline in capitals with its full stop spaced off, as tokenised wire copy prints it.
_SPACED_STOP_HEADLINE = re.compile(r"^[^a-z]*[A-Z][^a-z]* \.$")
_DIGITS_ONLY = re.compile(r"^[\d\s:./-]+$")  # bare timestamps, counters, page numbers

# --- dates and wire copy -------------------------------------------------------------------------------

MONTH_WORDS = frozenset(MONTHS)
_DATE = re.compile(rf"\b\d{{1,2}}\.? ?{MONTH_PATTERN} \d{{4}}\b|\b{MONTH_PATTERN} \d{{1,2}}(?:st|nd|rd|th)?,? \d{{4}}\b")
_NUMERIC_DATE = re.compile(r"\d{4}-\d\d-\d\d|\d{1,2} ?[/.-] ?\d{1,2} ?[/.-] ?\d{2,4}\b|\d{1,2}:\d\d\b")
# A dateline opens a wire story. Wire copy is typed by hand: "March  2", "2 March", "March 4, Reuter -",
# "****LONDON", a state after the city, or no date at all.
_PLACE = r"[A-Z][\w.'&/-]*(?: (?:de|da|do|del|la|le|el|am|an|[A-Z][\w.'&/-]*)){0,3}"  # "RIO DE JANEIRO"
_DATELINE = re.compile(
    rf"^[\W_]{{0,6}}{_PLACE}(?:, ?[A-Za-z.'& ]{{1,30}}){{0,2}},?"  # "EDISON, N.J.,"
    rf"(?: -)? *(?:(?i:{MONTH_PATTERN}) +\d{{1,3}}|\d{{1,2}} +(?i:{MONTH_PATTERN}))"  # "March 24", "2 March"
    r",?(?: Reuters?)? *[-—–]{1,2} "
    r"|^[A-Z][A-Z.'&/ -]{2,40}, [A-Z][A-Za-z.]{1,15}\.? [-—–] "  # "WOODBRIDGE, N.J. - "
    r"|^[A-Z][A-Z .,'-]{2,40} \((?:AP|Reuters|AFP|UPI|dpa)\) [-—–] "  # "WASHINGTON (AP) — "
)
DATELINE_REACH = 160  # a dateline's dash comes within this many characters of the line's start


def _opens_with_dateline(text: str) -> bool:
    """Whether the line opens with a dateline. Every form has a dash near the start: lines without one
    are not tried (the pattern is costly, and every line of a page is asked)."""
    opening = text[:DATELINE_REACH]
    return ("-" in opening or "—" in opening or "–" in opening) and _DATELINE.match(opening) is not None


# A dateline on a line of its own, above the story: a place in capitals and the day ("LONDON 1996-08-30",
# "PARIS, 5 March 2024"). It is short and dated, so the line rules take it for page metadata.
_DATELINE_OF_ITS_OWN = re.compile(
    rf"^[A-Z][A-Z.'&/-]+(?: [A-Z][A-Z.'&/-]*){{0,3}},? (?:\d{{4}}-\d\d-\d\d|\d{{1,2}}\.? (?i:{MONTH_PATTERN}),? \d{{4}}|(?i:{MONTH_PATTERN}) \d{{1,2}},? \d{{4}})$"
)
# An agency's sign-off closing a story (" Reuter", "REUTER...", or typed at the end of the last line),
# and " MORE": the story goes on in another take.
_SIGNOFF = re.compile(r"^\s*reuters?\b.{0,12}$", re.IGNORECASE)
_GLUED_SIGNOFF = re.compile(r"^(.*[.!?)\"'])\s+(?:REUTERS?|Reuters?)\s*$")
_MORE_TO_COME = re.compile(r"^\s*more\s*$", re.IGNORECASE)


@dataclasses.dataclass
class CleanedPage:
    title: str | None
    text: str  # the article body, paragraphs separated by one blank line
    language: str | None  # ISO 639-1
    removed_lines: list[str]  # what the text cleaner took for page chrome (empty for HTML and wire copy)
    date_hint: dt.date | None = None  # the date in the HTML page's metadata, if any
    line_keys: tuple[int, ...] = ()  # `line_key` of every line of a text page (not wire copy), sorted


# === 1. normalisation ==================================================================================


def normalise(raw: str) -> str:
    """Unicode NFC, one kind of line break, no control or zero-width characters, plain spaces."""
    text = _LINE_BREAKS.sub("\n", unicodedata.normalize("NFC", raw))
    text = text.replace("\t", "    ")  # a tab opens a paragraph in wire layout, like an indent
    text = _CONTROL.sub("", text)
    return _SPACES.sub(" ", text)


# === 2. wire stories ===================================================================================


def _without_signoff(lines: list[str]) -> tuple[list[str], bool]:
    """The page without trailing blank lines and a wire sign-off; and whether an agency signed it."""
    lines = list(lines)
    signed = False
    while True:
        while lines and not lines[-1].strip():
            lines.pop()
        if lines and _SIGNOFF.match(lines[-1]):
            lines.pop()
            signed = True
        elif lines and (glued := _GLUED_SIGNOFF.match(lines[-1])):
            lines[-1] = glued.group(1)  # "... of an ounce. REUTER"
            signed = True
        elif len(lines) > 1 and _MORE_TO_COME.match(lines[-1]):
            lines.pop()
        else:
            return lines, signed


def _wire_headline(lines: list[str], signed: bool) -> int | None:
    """Index of the headline when the page is a bare wire story, else None.

    A wire story is a headline line, a blank line, and a body that opens with a dateline ("LONDON,
    March 5 - ...") or that an agency signed and that is hard-wrapped throughout. It carries no chrome.
    """
    first = next((i for i, line in enumerate(lines) if line.strip()), None)
    if first is None or first + 2 >= len(lines) or lines[first + 1].strip():
        return None
    if len(lines[first].strip()) > TITLE_MAX_CHARS:
        return None
    body = [line for line in lines[first + 1 :] if line.strip()]
    if body and _opens_with_dateline(body[0].strip()):
        return first
    hard_wrapped = all(len(line) <= MAX_WRAP_WIDTH for line in body)
    # A web page can end with an agency's name too (a photo credit): then it also has menus.
    has_chrome = any(_CHROME_LINE.match(line.strip().lower()) for line in body)
    return first if signed and hard_wrapped and not has_chrome else None


def _wire_paragraphs(lines: list[str]) -> list[str]:
    """A wire story's body as paragraphs. A blank line or an indent opens a paragraph; inside one, lines
    are joined when they are wrapped (none longer than a wrap width), else each line is a paragraph."""
    runs: list[list[str]] = []
    after_blank = True
    for line in lines:
        if not line.strip():
            after_blank = True
            continue
        if after_blank or INDENT.match(line):
            runs.append([])
        runs[-1].append(line.strip())
        after_blank = False
    paragraphs: list[str] = []
    for run in runs:
        if all(len(line) <= MAX_WRAP_WIDTH for line in run[:-1]):
            paragraphs.append(_join_wrapped(run))
        else:
            paragraphs.extend(run)
    return paragraphs


# === 3. re-flowing hard-wrapped passages ===============================================================


def _wrap_width(lines: list[str]) -> int | None:
    """The column at which the page is hard-wrapped, or None when it is not.

    Candidates are lines of wrappable length that stop mid-sentence and are followed by another line.
    In wrapped prose most of them end just under the width, and the next line often carries on in lower
    case. Lists of headlines or templated lines ("X said:") can have similar lengths, but the next line
    starts a new item with a capital.
    """
    candidates = [
        (len(line.rstrip()), following)
        for line, following in pairwise(lines)
        if following.strip()
        and MIN_WRAP_WIDTH <= len(line.rstrip()) <= MAX_WRAP_WIDTH
        and not _CLAUSE_END.search(line)
    ]
    if len(candidates) < MIN_WRAPPED_LINES:
        return None
    lengths = sorted(length for length, _ in candidates)
    width = lengths[int(0.9 * (len(lengths) - 1))]
    near_width = sum(1 for length in lengths if length >= width * (1 - WRAP_BAND))
    carried_on = sum(1 for _, following in candidates if _CARRIES_ON.match(following))
    if near_width < WRAPPED_SHARE * len(candidates) or carried_on < WRAP_CARRY_ON_SHARE * len(candidates):
        return None
    return width


def _continues(line: str, following: str, width: int) -> bool:
    """True when `following` goes on with the paragraph of `line`, which the wrap cut short.

    Either the first word of `following` would not have fitted on `line`, or `line` is nearly full,
    stops mid-sentence and `following` carries on in lower case (wrappers disagree on the odd column).
    """
    if not following.strip() or INDENT.match(following):
        return False
    length = len(line.rstrip())
    if length + 1 + len(following.split(None, 1)[0]) > width - 1:
        return True
    nearly_full = length >= width * (1 - WRAP_BAND)
    return nearly_full and _CARRIES_ON.match(following) is not None and not _CLAUSE_END.search(line)


def _runs_of_lines(lines: list[str]) -> list[list[str]]:
    """Runs of non-blank lines."""
    runs: list[list[str]] = [[]]
    for line in lines:
        if line.strip():
            runs[-1].append(line)
        elif runs[-1]:
            runs.append([])
    return [run for run in runs if run]


def _dedented(run: list[str]) -> list[str]:
    """A run of lines without the indent all of them share: a block indented as a whole (a plain-text
    RFC, a quoted letter) is wrapped like any other; only an indent of its own opens a paragraph."""
    indent = min(len(line) - len(line.lstrip(" ")) for line in run)
    return [line[indent:] for line in run] if indent else run


def _join_wrapped(parts: list[str]) -> str:
    joined = parts[0]
    for part in parts[1:]:
        # "co-" + "operation": a word split by the wrap keeps its hyphen and loses the space.
        glue = "" if joined.endswith("-") and joined[-2:-1].isalpha() else " "
        joined += glue + part
    return joined


def reflow(lines: list[str]) -> list[str]:
    """Normalised lines as paragraphs: each line, except that hard-wrapped lines are joined back."""
    width = _wrap_width(lines)
    paragraphs: list[str] = []
    for run in map(_dedented, _runs_of_lines(lines)):
        # The page's width is estimated over all its lines; an article wrapped narrower than the chrome
        # around it is judged by its own widest line. When the chrome outweighs a wrapped article (a
        # long list of headlines), the article's own run of lines still shows its width.
        run_width = min(width, max(len(line.rstrip()) for line in run)) if width else _wrap_width(run)
        current = [run[0].strip()]
        for previous, line in pairwise(run):
            if run_width and _continues(previous, line, run_width):
                current.append(line.strip())
            else:
                paragraphs.append(_join_wrapped(current))
                current = [line.strip()]
        paragraphs.append(_join_wrapped(current))
    return paragraphs


# === 4. lines: features and classification ============================================================

BAD, SHORT, NEARGOOD, GOOD = "bad", "short", "neargood", "good"
_UNDECIDED = "neargood, unless a short line next to it turns out good"


@dataclasses.dataclass
class _Line:
    text: str
    chars: int
    words: int
    stopword_density: float
    sentence: bool  # ends like a sentence
    heading_like: bool  # could be a title or a subheading
    word_chars: int  # characters in words (no spaces, no punctuation)
    key: str  # what copies of this line have in common: its words, lower-cased
    chrome: bool  # page furniture or metadata, whatever its neighbours
    furniture: bool  # the site's furniture (menus' words, links, copyright): never a story's line
    ends_article: bool  # "Related articles", "Comments": what follows is not the article
    ends_open: bool  # its last word is a stopword ("...said on"): a sentence the line break cut
    repeated: bool = False
    menu: bool = False
    cls: str = BAD


def _page_language(paragraphs: list[str]) -> str | None:
    """The language of the page's prose, read from its longest sentences.

    Sentences, because a tag cloud or a menu in the site's language can be longer than any paragraph of
    an article in another language. The longest ones are nearly always the article's, so this is also
    the body's language: one detection per page, on a bounded sample, keeps the model's cost under 1 ms.
    """
    sentences = [p for p in paragraphs if _SENTENCE_END.search(p)]
    pool = sentences if sum(map(len, sentences)) >= LANGUAGE_SAMPLE_MIN_CHARS else paragraphs
    sample: list[str] = []
    size = 0
    for paragraph in sorted(pool, key=len, reverse=True):
        if size >= LANGUAGE_SAMPLE_CHARS:
            break
        sample.append(paragraph)
        size += len(paragraph) + 1
    return detect_language(" ".join(sample)[:LANGUAGE_SAMPLE_CHARS])


def _stoplists(language: str | None) -> tuple[frozenset[str], ...]:
    """Stoplists to read the page with: its language's, and English's.

    A page in one language can carry an article in another, most often English (a wire story on a
    Korean portal). Without a stoplist for the page's language there is none: length and punctuation
    decide alone (and English chrome must not pass for prose on a Chinese page).
    """
    own = stopwords_for(language)
    if not own:
        return ()
    return (own,) if language == "en" else (own, stopwords_for("en"))


def _stopword_density(tokens: list[str], stoplists: tuple[frozenset[str], ...]) -> float:
    """Share of stopwords among the words that are not numbers (a sentence of figures is still prose),
    by the first stoplist in which the line reads as prose."""
    wordlike = len(tokens) - sum(map(str.isdigit, tokens))
    density = 0.0
    for stopwords in stoplists:
        if wordlike and density < STOPWORDS_HIGH:
            density = max(density, sum(map(stopwords.__contains__, tokens)) / wordlike)
    return density


def _is_date_line(lower: str, tokens: list[str]) -> bool:
    """A short line carrying a date or a time: crawl dates, "Updated ...", "Published ... on ..."."""
    if len(tokens) > DATE_LINE_MAX_WORDS or _DIGIT.search(lower) is None:
        return False
    if _NUMERIC_DATE.search(lower):
        return True
    # The month-name patterns are slow to scan for: only lines that name a month pay for them.
    return not MONTH_WORDS.isdisjoint(tokens) and _DATE.search(lower) is not None


def _is_furniture(text: str, lower: str, tokens: list[str]) -> bool:
    """The site's furniture, recognisable from the line alone: menus' and buttons' words, links,
    copyright, tickers, cookie banners. A story never prints these."""
    if len(tokens) <= CHROME_LINE_MAX_WORDS and (
        _CHROME_LINE.match(lower) or _SHORTCODE.match(text) or _URL_ONLY.match(text) or COPYRIGHT_LINE.search(lower)
    ):
        return True
    # Tickers and consent banners can be long, but their separators or their wording give them away.
    if is_ticker(text):
        return True
    return len(text) <= CONSENT_MAX_CHARS and "cookie" in lower and _CONSENT.search(lower) is not None


def _is_metadata(text: str, lower: str, tokens: list[str]) -> bool:
    """A date, a byline, a credit or a bare number on a line of its own: what a page prints around a
    story (and a plain export of the story may keep)."""
    words = len(tokens)
    if words > CHROME_LINE_MAX_WORDS:
        return False
    if _DIGITS_ONLY.match(text) or not _LETTERS.search(text) or _is_date_line(lower, tokens):
        return True
    return words <= BYLINE_MAX_WORDS and (BYLINE.match(lower) or _PHOTO_CREDIT.match(lower)) is not None


def _ends_open(text: str, stoplists: tuple[frozenset[str], ...]) -> bool:
    """Whether the line stops on a lower-case stopword ("...said on"), as a sentence cut by a line break
    does ("...in May" is a headline's month)."""
    words = WORD.findall(text[-40:])
    return bool(words) and words[-1].islower() and any(words[-1] in stopwords for stopwords in stoplists)


def _features(text: str, stoplists: tuple[frozenset[str], ...]) -> _Line:
    lower = text.lower()
    tokens = WORD.findall(lower)
    words = len(tokens)
    furniture = _is_furniture(text, lower, tokens)
    return _Line(
        text=text,
        chars=len(text),
        words=words,
        stopword_density=_stopword_density(tokens, stoplists),
        sentence=_SENTENCE_END.search(text) is not None,
        heading_like=0 < words <= HEADING_MAX_WORDS
        and len(text) <= TITLE_MAX_CHARS
        and (not text.endswith((".", ",", ":", ";")) or _SPACED_STOP_HEADLINE.match(text) is not None)
        and _LETTERS.search(text) is not None,
        word_chars=sum(map(len, tokens)),
        key="".join(tokens),
        chrome=furniture or _is_metadata(text, lower, tokens),
        furniture=furniture,
        ends_article=words <= END_MARKER_MAX_WORDS and END_OF_ARTICLE.match(lower) is not None,
        ends_open=_ends_open(text, stoplists),
    )


@functools.lru_cache(maxsize=LINE_CACHE_SIZE)
def _known_features(text: str, stoplists: tuple[frozenset[str], ...]) -> _Line:
    """`_features`, remembered: a site prints the same header and footer lines on every page (on a
    generated dump, 84% of the lines of 1,000 pages were seen before). Never changed: see `_fresh`."""
    return _features(text, stoplists)


def _fresh(line: _Line) -> _Line:
    """A copy of a remembered line, for the classification passes to change (faster than
    dataclasses.replace, which runs __init__)."""
    copy = object.__new__(_Line)
    copy.__dict__.update(line.__dict__)
    return copy


def _mark_repeats(lines: list[_Line]) -> None:
    """Lines printed more than once are page furniture: labels, captions shown twice, teasers.

    Short repeats always are. A long line is a caption when its copies stand close together; far apart,
    it may be a standfirst repeated as the first paragraph, so context decides (and the body keeps one).
    """
    positions: dict[str, list[int]] = {}
    for index, line in enumerate(lines):
        if len(line.key) >= REPEAT_MIN_CHARS:
            positions.setdefault(line.key, []).append(index)
    for indices in positions.values():
        if len(indices) < 2:
            continue
        close = any(b - a <= REPEAT_NEAR_LINES for a, b in pairwise(indices))
        if lines[indices[0]].chars < LENGTH_LOW or close:
            for index in indices:
                lines[index].repeated = True


def _in_template(paragraph: str, template: frozenset[int]) -> bool:
    return bool(template) and line_key(paragraph) in template


def _lines_of(
    paragraphs: list[str], language: str | None, template: frozenset[int]
) -> tuple[list[_Line], bool]:
    """Lines with their features, and whether the page's language has a stoplist.

    `template` holds the keys of the lines this page's source prints on many different stories
    (transforms/templates.py): they are chrome wherever they stand.
    """
    stoplists = _stoplists(language)
    lines = [_fresh(_known_features(paragraph, stoplists)) for paragraph in paragraphs]
    _mark_repeats(lines)
    if template:
        for line in lines:
            if hashed_words(line.key) in template:
                line.chrome = line.furniture = True
    return lines, bool(stoplists)


def _initial_class(line: _Line, has_stoplist: bool) -> str:
    """jusText's context-free classification, on one line."""
    if line.chrome or line.repeated:
        return BAD
    if line.chars < LENGTH_LOW:
        return SHORT
    if not has_stoplist:  # nothing to count: long lines that end like sentences are prose
        return GOOD if line.chars >= LENGTH_HIGH and line.sentence else NEARGOOD
    if line.stopword_density >= STOPWORDS_HIGH:
        return GOOD if line.chars >= LENGTH_HIGH else NEARGOOD
    return NEARGOOD if line.stopword_density >= STOPWORDS_LOW else BAD


def _is_menu_item(line: _Line) -> bool:
    return line.cls == SHORT and line.words <= MENU_LINE_MAX_WORDS and not line.sentence


def _mark_menus(lines: list[_Line]) -> None:
    """Runs of short, few-word lines without punctuation are navigation, wherever they stand."""
    start = 0
    while start < len(lines):
        end = start
        while end < len(lines) and _is_menu_item(lines[end]):
            end += 1
        if end - start >= MENU_RUN:
            for line in lines[start:end]:
                line.cls, line.menu = BAD, True
        start = max(end, start + 1)


def _is_short_prose(line: _Line, following: _Line | None) -> bool:
    """A short line that is part of a sentence cut across lines: text broken at an uneven width. It ends
    on a stopword, or it or the next line carries on in lower case: a list of headlines does neither."""
    return (
        line.cls == SHORT
        and line.chars >= SHORT_PROSE_MIN_CHARS
        and line.words >= SHORT_PROSE_MIN_WORDS
        and line.stopword_density >= STOPWORDS_HIGH
        and (line.ends_open or _carries_on(line) or (following is not None and _carries_on(following)))
    )


def _carries_on(line: _Line) -> bool:
    return _CARRIES_ON.match(line.text) is not None and line.text[:1].islower()


def _promote_prose_runs(lines: list[_Line]) -> None:
    """Near-good lines in a run of prose vouch for each other.

    jusText needs one long paragraph to vouch for its neighbours; news written in 150-character
    paragraphs has none. A run of near-good lines (short lines may sit inside it) worth
    NEARGOOD_RUN_CHARS is article text. Short lines dense in stopwords count as near-good here: text
    broken at an uneven width (one sentence a line, cut again) has no line long enough to be near-good.
    """
    short_prose = {
        index for index, line in enumerate(lines)
        if _is_short_prose(line, lines[index + 1] if index + 1 < len(lines) else None)
    }
    run: list[_Line] = []
    for index, line in enumerate([*lines, None]):
        if line is not None and line.cls in (NEARGOOD, GOOD, SHORT):
            if line.cls != SHORT or index in short_prose:
                run.append(line)
            continue
        prose = [member for member in run if member.cls in (NEARGOOD, SHORT)]
        if len(prose) >= 2 and sum(member.chars for member in prose) >= NEARGOOD_RUN_CHARS:
            for member in prose:
                member.cls = GOOD
        run = []


def _neighbours(classes: list[str], skip: tuple[str, ...]) -> tuple[list[str | None], list[str | None]]:
    """For every line, the class of the nearest line before and after it whose class is not in `skip`
    (None at the page's edges). Two passes: long runs of short lines cost no more than short ones."""
    before: list[str | None] = []
    last = None
    for cls in classes:
        before.append(last)
        if cls not in skip:
            last = cls
    after: list[str | None] = []
    last = None
    for cls in reversed(classes):
        after.append(last)
        if cls not in skip:
            last = cls
    return before, after[::-1]


def _neighbours_past_inserts(lines: list[_Line]) -> tuple[list[str | None], list[str | None]]:
    """Like `_neighbours` skipping short lines, and looking past inserts too.

    Inserts are what a page drops between two paragraphs: an image caption printed twice, a lone
    "ADVERTISEMENT". A subheading right after a caption still stands between two paragraphs. More than
    INSERT_MAX_LINES of them in a row is no insert but a boundary, as bad as any chrome.
    """

    def one_way(order: Iterable[_Line]) -> list[str | None]:
        found: list[str | None] = []
        last, inserts = None, 0
        for line in order:
            found.append(BAD if inserts > INSERT_MAX_LINES else last)
            if line.cls == BAD and (line.repeated or line.chrome):
                inserts += 1
            elif line.cls != SHORT:
                last, inserts = line.cls, 0
        return found

    return one_way(lines), one_way(reversed(lines))[::-1]


def _short_line_class(line: _Line, before: str | None, after: str | None) -> str:
    """A subheading between two paragraphs stays; a sentence next to the article stays; the rest goes."""
    if before == GOOD and after == GOOD:
        return GOOD
    if line.sentence and line.words >= 3 and GOOD in (before, after) and BAD not in (before, after):
        return GOOD  # the article's first or last sentence, at the edge of the page
    return BAD


def _smooth(lines: list[_Line]) -> None:
    """jusText's context pass: near-good and short lines take the class their neighbours suggest.

    As in jusText, neighbours are read from the classes before each pass, not as the pass changes them.
    """
    _promote_prose_runs(lines)
    before, after = _neighbours([line.cls for line in lines], skip=(SHORT, NEARGOOD))
    for index, line in enumerate(lines):
        if line.cls == NEARGOOD:
            line.cls = GOOD if GOOD in (before[index], after[index]) else _UNDECIDED
    before, after = _neighbours_past_inserts(lines)
    for index, line in enumerate(lines):
        if line.cls == SHORT:
            line.cls = _short_line_class(line, before[index], after[index])
    for line in lines:
        if line.cls == _UNDECIDED:
            line.cls = BAD


def _classify(lines: list[_Line], has_stoplist: bool, lenient: bool = False) -> list[_Line]:
    """Set every line's class; `lenient` takes near-good lines for good (a post of one paragraph)."""
    for line in lines:
        line.cls, line.menu = _initial_class(line, has_stoplist), False
        if lenient and line.cls == NEARGOOD:
            line.cls = GOOD
    _mark_menus(lines)
    _smooth(lines)
    return lines


# === 5. where the article is ===========================================================================


@dataclasses.dataclass
class _Block:
    """Lines from a good line to a good line, with no hard gap in between."""

    start: int
    end: int  # exclusive
    score: float  # characters of good lines, net of the tolls of the chrome inside


def _toll(line: _Line) -> float:
    """What a line of chrome between two stretches of article costs them."""
    return min(BAD_LINE_TOLL + BAD_LINE_SHARE * line.chars, BAD_LINE_TOLL_CAP)


def _blocks(lines: list[_Line]) -> list[_Block]:
    """Cut the page at hard gaps: long stretches of chrome, and lines announcing post-article sections.

    A hard gap separates the article from teaser lists and comments that read like prose too.
    """
    blocks: list[_Block] = []
    current: _Block | None = None
    gap = 0.0
    for index, line in enumerate(lines):
        if line.cls == GOOD:
            if current is None:
                current = _Block(index, index + 1, 0.0)
            current.score += line.chars - gap
            current.end, gap = index + 1, 0.0
        elif current is not None:
            gap += _toll(line)
            if gap >= HARD_GAP_TOLL or line.ends_article:
                blocks.append(current)
                current, gap = None, 0.0
    if current is not None:
        blocks.append(current)
    return blocks


def _block_after(lines: list[_Line], blocks: list[_Block], title: int) -> _Block | None:
    """The article under a headline: the largest block starting within a few lines below it.

    Not simply the first: a standfirst or a lone caption often stands between headline and body. A
    headline that the classifier took for text belongs to the block below it: that block starts after it.
    """
    near = []
    for block in blocks:
        if block.start <= title < block.end:
            block = _Block(title + 1, block.end, block.score - lines[title].chars)
        if 0 < block.start - title <= TITLE_TO_BODY_GAP and block.end > block.start:
            near.append(block)
    return max(near, key=lambda block: block.score) if near else None


def _with_continuation(lines: list[_Line], blocks: list[_Block], block: _Block) -> _Block:
    """The article extended over strips of chrome inside it (ads, "More from ...").

    It goes on when text as substantial as the article so far follows a strip; teasers and comments
    under an article are smaller, or announced by a "Comments" / "Related" line.
    """
    for following in blocks:
        if following.start < block.end:
            continue
        gap = lines[block.end : following.start]
        if (
            any(line.ends_article for line in gap)
            or sum(map(_toll, gap)) > CONTINUATION_MAX_GAP_TOLL
            or following.score < CONTINUATION_MIN_SHARE * block.score
        ):
            break
        block = _Block(block.start, following.end, block.score + following.score)
    return block


# === 6. the title =====================================================================================


def _title_candidate(line: _Line) -> bool:
    """A heading that could be the headline: not chrome, not a list item, not a bracketed credit."""
    if not line.heading_like or line.chrome or line.words < 2 or _BULLET.match(line.text):
        return False
    return not (line.text.startswith(("(", "[")) and line.text.endswith((")", "]")))


def _named_titles(lines: list[_Line]) -> list[int]:
    """Lines that the page's own name quotes: a dump's first line is often "<headline> | <site>"."""
    page_name = lines[0].key if lines else ""  # words only: quotes and dashes differ between the two
    return [
        i for i, line in enumerate(lines[1:], start=1)
        if line.words >= 3 and _title_candidate(line) and line.key in page_name
    ]


def _find_title(lines: list[_Line], body_start: int) -> tuple[int | None, bool]:
    """(index of the headline above `body_start`, whether the page confirms it by printing it twice).

    A headline is often printed twice in a row: glued to the end of a breadcrumb trail, then alone (a
    table of contents also repeats headings, but far from them). Otherwise it is the nearest heading above the body, looking past metadata (dates,
    bylines, credits) that the classifier already took for chrome.
    """
    window = range(max(0, body_start - TITLE_LOOKBACK), min(len(lines), body_start + 1))
    candidates = [i for i in window if _title_candidate(lines[i])]
    repeated = [
        i for i in candidates
        if lines[i].words >= REPEATED_TITLE_MIN_WORDS
        and any(
            lines[j].text.endswith(lines[i].text)
            for j in range(max(0, i - REPEAT_NEAR_LINES), min(len(lines), i + REPEAT_NEAR_LINES + 1))
            if j != i
        )
    ]
    if repeated:
        return repeated[-1], True
    # The body's own first line counts: a headline long enough to pass for text opens the block.
    # A headline is a sentence's worth of words; two or three capitalised words are usually a byline.
    headlines = [i for i in candidates if lines[i].words >= HEADLINE_MIN_WORDS] or candidates
    return (headlines[-1], False) if headlines else (None, False)


# === 7. the article, end to end =======================================================================


def _skip_metadata(lines: list[_Line], start: int, end: int) -> int:
    """Short lines right under the headline are its byline, date and credits, not the article."""
    while start < end and lines[start].chars < LENGTH_LOW and not lines[start].sentence:
        start += 1
    return start


def _article_under_named_title(lines: list[_Line], blocks: list[_Block]) -> tuple[int, _Block] | None:
    """(title, block) when the page names its headline and an article follows it; the best if several."""
    found = []
    for title in _named_titles(lines):
        block = _block_after(lines, blocks, title)
        if block is not None and block.score >= MIN_BODY_CHARS:
            found.append((block, title))
    if not found:
        return None
    block, title = max(found, key=lambda pair: (pair[0].score, -pair[1]))
    return title, block


def _title_and_block(lines: list[_Line], blocks: list[_Block]) -> tuple[int | None, _Block]:
    """The headline and the block of article text under it."""
    named = _article_under_named_title(lines, blocks)
    if named is not None:
        # The article is what follows the headline the page names, even when comments or teasers
        # elsewhere on the page hold more text.
        return named
    block = max(blocks, key=lambda b: b.score)
    title, confirmed = _find_title(lines, block.start)
    named_above = [i for i in _named_titles(lines) if i < block.start]
    if named_above:  # named, but further above the article than bylines and share buttons reach
        return named_above[-1], block
    if title is not None and confirmed and title < block.start:
        under_title = _block_after(lines, blocks, title)
        if under_title is not None and under_title.score >= ANCHORED_MIN_SHARE * block.score:
            return title, under_title
    return title, block


def _article(lines: list[_Line]) -> tuple[int | None, list[int]]:
    """(title index, indices of body lines) of the article in classified lines."""
    blocks = _blocks(lines)
    if not blocks:
        return None, []
    title, block = _title_and_block(lines, blocks)
    block = _with_continuation(lines, blocks, block)
    start = block.start
    if title is not None:
        start = _skip_metadata(lines, max(start, title + 1), block.end)
    # The headline is not repeated at the top of the body, and no paragraph is printed twice.
    seen = {lines[title].key} if title is not None else set()
    body = []
    for index in range(start, block.end):
        if lines[index].cls == GOOD and lines[index].key not in seen:
            body.append(index)
            seen.add(lines[index].key)
    return title, body


def _dateline_article(lines: list[_Line]) -> tuple[int | None, list[int]]:
    """A wire brief inside page chrome: from a dateline ("BOSTON, March 2 - Qtly div ...") to the next
    piece of chrome, under the headline above it. Briefs are too short and too full of figures for the
    prose classifier. The longest such run on the page wins."""
    best: tuple[int | None, list[int]] = (None, [])
    for start, line in enumerate(lines):
        if not _opens_with_dateline(line.text):
            continue
        end = start + 1
        while end < len(lines) and end - start < DATELINE_ARTICLE_MAX_LINES:
            if not _is_brief_line(lines[end]):
                break
            end += 1
        if _body_chars(lines, range(start, end)) > _body_chars(lines, best[1]):
            title = start - 1 if start > 0 and _title_candidate(lines[start - 1]) else None
            best = (title, list(range(start, end)))
    return best


def _is_brief_line(line: _Line) -> bool:
    """A line a wire brief runs over: anything but chrome (see `_dateline_article`)."""
    return not (line.chrome or line.ends_article or line.menu or line.repeated)


def _brief_opening(lines: list[_Line], first: int) -> int | None:
    """The dateline of a wire brief that runs, without chrome in between, into the body at `first`."""
    for index in range(first - 1, max(-1, first - DATELINE_ARTICLE_MAX_LINES), -1):
        if not _is_brief_line(lines[index]):
            return None
        if _opens_with_dateline(lines[index].text):
            return index
    return None


def _body_chars(lines: list[_Line], body: Iterable[int]) -> int:
    return sum(lines[i].word_chars for i in body)


def _enough(lines: list[_Line], body: list[int]) -> bool:
    """Enough text found to stop looking for the article another way."""
    return _body_chars(lines, body) >= MIN_BODY_LETTERS


def _text_article(lines: list[_Line], has_stoplist: bool) -> tuple[int | None, list[int]]:
    """(title, body lines): the classifier's article; failing that a wire brief found by its dateline;
    failing that what a lenient classifier finds (a short post of one paragraph, with no neighbour);
    failing that a table of results."""
    title, body = _article(_classify(lines, has_stoplist))
    if _enough(lines, body):
        opening = _brief_opening(lines, body[0])
        if opening is not None:
            # The article opens with a wire brief's lines of figures, too short for the prose classifier;
            # the headline is above its dateline, not one of its lines.
            if title is not None and title >= opening:
                title = _find_title(lines, opening - 1)[0] if opening > 0 else None
            return title, [*range(opening, body[0]), *body]
        return title, body
    brief = _dateline_article(lines)
    if _enough(lines, brief[1]):
        return brief
    lenient = _article(_classify(lines, has_stoplist, lenient=True))
    if _enough(lines, lenient[1]):
        return lenient
    table = _table_article(lines)
    return table if _enough(lines, table[1]) else (title, body)


def _is_table_row(line: _Line) -> bool:
    """A row of results or figures: names and numbers ("Palm Bay d. Rockledge 70-44")."""
    return (
        not (line.chrome or line.repeated or line.menu)
        and line.words >= TABLE_ROW_MIN_WORDS
        and _DIGIT.search(line.text) is not None
        and _LETTERS.search(line.text) is not None
    )


def _table_article(lines: list[_Line]) -> tuple[int | None, list[int]]:
    """A page that is one table of results under a heading (sports results, an itinerary): the longest
    run of rows, where a few lines without figures (team names, "GIRLS SOCCER") may stand in between,
    under the heading right above it. Prose pages never get here: they have an article already."""
    best: list[int] = []
    start = 0
    while start < len(lines):
        if not _is_table_row(lines[start]):
            start += 1
            continue
        end, rows, gap = start, [], 0
        while end < len(lines) and gap <= TABLE_MAX_GAP and not (lines[end].chrome or lines[end].menu):
            if _is_table_row(lines[end]):
                rows.append(end)
                gap = 0
            else:
                gap += 1
            end += 1
        if len(rows) >= TABLE_MIN_ROWS and len(rows) > len(best):
            best = list(range(rows[0], rows[-1] + 1))
        start = end
    if not best:
        return None, []
    above = best[0] - 1
    while above >= 0 and not lines[above].text.strip():
        above -= 1
    title = above if above >= 0 and _title_candidate(lines[above]) and above >= best[0] - 3 else None
    return title, best


def _wire_story(raw: str) -> tuple[list[str], int | None]:
    """The page's lines (sign-off removed when it is wire copy) and the wire headline's line, if any."""
    page_lines, signed = _without_signoff(normalise(raw).split("\n"))
    return page_lines, _wire_headline(page_lines, signed)


def _page_lines(raw: str, template: frozenset[int]) -> tuple[str | None, list[_Line], RuleVerdict] | None:
    """(language, classified lines, the rules' verdict) of a page that is not bare wire copy; None for
    a page without text. The rules' verdict is what the learned classifier starts from."""
    printed = normalise(raw).split("\n")
    paragraphs = reflow(printed)
    if not paragraphs:
        return None
    # The site's template is in the site's language; the article under it may be in another.
    language = _page_language([p for p in paragraphs if not _in_template(p, template)] or paragraphs)
    lines, has_stoplist = _lines_of(paragraphs, language, template)
    initial = [_initial_class(line, has_stoplist) for line in lines]
    title, body = _text_article(lines, has_stoplist)
    verdict = RuleVerdict(
        initial_classes=initial, body=frozenset(body), title=title, has_stoplist=has_stoplist,
        datelines=frozenset(i for i, line in enumerate(lines) if _opens_with_dateline(line.text)),
        table_rows=frozenset(i for i, line in enumerate(lines) if _is_table_row(line)),
        furnished=_furnished(printed, lines),
    )
    return language, lines, verdict


def _furnished(printed: list[str], lines: list[_Line]) -> bool:
    """Whether anything on the page is the site's: furniture, also in lines as printed that reflowing
    joined (it joins "Share this:" to its buttons), or a bulleted link ("• Contact Us"). An agency's
    sign-off is the story's. A menu is the site's when it names sections ("News", "Sport"): runs of short
    lines and short repeats alone are not enough (a results table has both)."""
    if any((line.furniture and not _SIGNOFF.match(line.text)) or (line.menu and _SECTION.match(line.text.lower()))
           or _is_bulleted_link(line.text) for line in lines):
        return True
    judged = {line.text for line in lines}
    joined = [text for text in map(str.strip, printed) if text and text not in judged]
    return any(
        (_is_furniture(text, text.lower(), WORD.findall(text.lower())) and not _SIGNOFF.match(text))
        or _is_bulleted_link(text)
        for text in joined
    )


def _is_bulleted_link(text: str) -> bool:
    return _LINK_BULLET.match(text) is not None and len(text.split()) <= BULLETED_LINK_MAX_WORDS


BULLETED_LINK_MAX_WORDS = 4  # "• Read Our Blog"
CLASSIFIED_MAX_LINES = 5000  # the longest page of the six web corpora has 2,360 lines
DATELINE_MAX_LINES = 8  # a story's dateline is among its first lines
SIGNOFF_MAX_WORDS = 2


def _learned_body(
    lines: list[_Line], verdict: RuleVerdict, template: frozenset[int], classifier: LineClassifier
) -> list[int]:
    """The lines the learned classifier takes for article text, without the title and the source's
    template lines; the rules' article when the classifier finds none (a page is rejected only when
    neither finds one)."""
    if not verdict.furnished and len({line.key for line in lines}) * 2 >= len(lines):
        # Nothing of a site's, and different lines: a plain export of one story (a wire file, a corpus
        # document), whose datelines, tables and lists are the story's too.
        counter(metrics.CLEAN_PLAIN_STORY).inc()
        last = len(lines) - 1 if lines and _signs_off(lines, lines[-1]) else len(lines)
        return [index for index in range(last) if index != verdict.title]
    if len(lines) > CLASSIFIED_MAX_LINES:
        # No web page has this many lines: the rules' linear passes judge it, not the classifier's
        # page-sized arrays.
        counter(metrics.CLEAN_RULES_LONG_PAGE).inc()
        return sorted(verdict.body)
    is_article = classifier.is_article(line_features(lines, verdict))
    body = [
        index for index in np.flatnonzero(is_article).tolist()
        if index != verdict.title and not (template and hashed_words(lines[index].key) in template)
        # What the rules know for sure is never the story, wherever it stands: the site's furniture and
        # menus, metadata (dates, bylines, credits), a caption printed twice.
        and not (lines[index].chrome or lines[index].menu or _printed_twice_in_a_row(lines, index))
    ]
    if not _enough(lines, body) and _enough(lines, sorted(verdict.body)):
        counter(metrics.CLEAN_RULES_FALLBACK).inc()
        body = sorted(verdict.body)
    if body:
        body = _grown_to_rules_article(lines, verdict, body)
    return _with_its_dateline(lines, verdict, body)


def _signs_off(lines: list[_Line], line: _Line) -> bool:
    """The agency's name closing a wire story (" Reuter", " Wirepress" when its dateline credits
    "(Wirepress)"): a sign-off, not the story."""
    name = line.text.strip()
    return _SIGNOFF.match(name) is not None or (
        0 < line.words <= SIGNOFF_MAX_WORDS and any(f"({name})" in other.text for other in lines[:DATELINE_MAX_LINES])
    )


def _grown_to_rules_article(lines: list[_Line], verdict: RuleVerdict, body: list[int]) -> list[int]:
    """The body's first and last lines moved out over the lines right above and below it that the rules
    took for the article too, and its holes filled with them (a subheading the classifier doubted)."""
    start, end = body[0], body[-1]
    while start - 1 in verdict.body and start - 1 != verdict.title and not lines[start - 1].furniture:
        start -= 1
    while end + 1 in verdict.body and not lines[end + 1].furniture:
        end += 1
    kept = set(body) | verdict.body
    return [index for index in range(start, end + 1) if index in kept]


def _printed_twice_in_a_row(lines: list[_Line], index: int) -> bool:
    """A line printed twice in a row is an image's alt text and caption, not the story."""
    key = lines[index].key
    return bool(key) and any(0 <= other < len(lines) and lines[other].key == key for other in (index - 1, index + 1))


def _with_its_dateline(lines: list[_Line], verdict: RuleVerdict, body: list[int]) -> list[int]:
    """The body with the story's dateline on a line of its own above it ("PORT ALDER 1996-08-30"), which
    the rules take for page metadata."""
    if not body:
        return body
    above = body[0] - 1
    if above >= 0 and above != verdict.title and _DATELINE_OF_ITS_OWN.match(lines[above].text):
        return [above, *body]
    return body  # a dateline opening the rules' article came with it (`_grown_to_rules_article`)


def text_page_features(raw: str) -> tuple[list[str], np.ndarray, int | None] | None:
    """(lines, one row of `line_features.FEATURES` per line, the rules' title line) of a text page, as
    the learned classifier sees them; None for bare wire copy and empty pages (they never reach it)."""
    if _wire_story(raw)[1] is not None:
        return None
    found = _page_lines(raw, frozenset())
    if found is None:
        return None
    _, lines, verdict = found
    return [line.text for line in lines], line_features(lines, verdict), verdict.title


def clean_text_page(
    raw: str, template: frozenset[int] = frozenset(), classifier: LineClassifier | None = None
) -> CleanedPage:
    """Title, article body and language of a whole-page plain-text dump.

    `template`: keys (`line_key`) of the lines the page's source repeats across stories: always chrome.
    `classifier`: the line classifier, when not the shipped one (benchmarks score others).
    """
    raw = _without_data_lines(raw)
    page_lines, headline = _wire_story(raw)
    if headline is not None:
        text = "\n\n".join(_wire_paragraphs(page_lines[headline + 1 :]))
        language = detect_language(text[:LANGUAGE_SAMPLE_CHARS])
        return CleanedPage(page_lines[headline].strip(), text, language, [])
    found = _page_lines(raw, template)
    if found is None:
        return CleanedPage(None, "", None, [])
    language, lines, verdict = found
    check_time_limit()  # the rules have judged every line: the classifier is next
    title, body = verdict.title, _learned_body(lines, verdict, template, classifier or line_classifier())
    kept = {*body, title}
    return CleanedPage(
        title=lines[title].text if title is not None else None,
        text="\n\n".join(lines[i].text for i in body),
        language=language if body else None,
        removed_lines=[line.text for i, line in enumerate(lines) if i not in kept],
        line_keys=tuple(sorted({hashed_words(line.key) for line in lines if line.key})),
    )


# === HTML =============================================================================================


def _html_settings() -> dict:
    """trafilatura settings: precision first, no comments, tables kept (scores, results), nothing fetched."""
    return {
        "with_metadata": True,  # title and date from the page's metadata
        "include_comments": False,
        "include_tables": True,
        "include_images": False,
        "include_links": False,
        "favor_precision": True,  # measured on aeb-html: F1 0.967, against 0.962 by default
        "deduplicate": False,
        # htmldate works on the parsed tree: it never fetches, even with a URL (only read for its date).
        "date_extraction_params": {"extensive_search": False, "original_date": True},
    }


def _parse_date(value: str | None) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value[:10]) if value else None
    except ValueError:
        return None


def clean_html_page(html: str, url: str | None = None) -> CleanedPage:
    """Title, article body, language and metadata date of an HTML page, extracted by trafilatura."""
    import trafilatura  # heavy import, paid only by pipelines that see HTML

    # trafilatura logs an ERROR for every page it cannot parse; such a page is a reject row, not an error.
    logging.getLogger("trafilatura").setLevel(logging.CRITICAL)

    result = trafilatura.bare_extraction(html, url=url, **_html_settings()) if html.strip() else None
    if result is None:
        return CleanedPage(None, "", None, [])
    title = " ".join(normalise(result.title).split()) if result.title else None
    paragraphs = [line.strip() for line in normalise(result.text or "").split("\n") if line.strip()]
    if title and paragraphs and words_key(paragraphs[0]) == words_key(title):
        paragraphs = paragraphs[1:]  # the headline is `title`, not the body's first line
    text = "\n\n".join(paragraphs)
    language = detect_language(text[:LANGUAGE_SAMPLE_CHARS]) if text else None
    return CleanedPage(title or None, text, language, [], _parse_date(result.date))


# === the stage ========================================================================================


def has_article(text: str) -> bool:
    """Whether a cleaned body is an article body (letters, not words: Chinese has no spaces)."""
    return len(_LETTERS.findall(text)) >= MIN_BODY_LETTERS


def _web_address(source_uri: str) -> str | None:
    """The page's address when the input came from the web; a storage path says nothing to trafilatura."""
    return source_uri if source_uri.startswith(("http://", "https://")) else None


def _check_size(raw: str, content_type: str) -> None:
    if len(raw) > MAX_PAGE_CHARS:
        raise Rejected("page too long to be a news article: not cleaned",
                       f"{len(raw):,} characters, limit {MAX_PAGE_CHARS:,}")
    if content_type == "html" and raw.count("<") > MAX_HTML_TAGS:
        raise Rejected("page with more HTML elements than any news page: not parsed",
                       f"{raw.count('<'):,} tags, limit {MAX_HTML_TAGS:,}")


def wordless_share(text: str) -> float:
    """The share of a text's characters in runs without a space longer than MAX_WORD_CHARS. Scripts
    written without spaces (Chinese, Japanese, Thai) count as words: they break at their punctuation."""
    long_runs = [run for run in text.split() if len(run) > MAX_WORD_CHARS and not _CLAUSE_MARKS.search(run)]
    return sum(map(len, long_runs)) / max(1, len(text))


def _without_data_lines(raw: str) -> str:
    """The page without its lines of data (a long run of characters without word breaks: an inline
    image, a hash, a line of one letter), which no article prints and every line rule would scan."""
    if not any(len(line) > MAX_WORD_CHARS for line in raw.split("\n")):
        return raw
    return "\n".join(line for line in raw.split("\n")
                     if len(line) <= MAX_WORD_CHARS or wordless_share(line) <= MAX_WORDLESS_SHARE)


def clean_document(doc: Document) -> Document:
    """Fill title, text, language and date_hint from `doc.raw`; reject pages without an article body."""
    _check_size(doc.raw, doc.content_type)
    if doc.content_type == "html":
        page = clean_html_page(doc.raw, url=_web_address(doc.address))
    elif doc.content_type == "text":
        page = clean_text_page(doc.raw)
    else:
        raise Rejected("unsupported content type", detail=f"content_type={doc.content_type!r}")
    if not has_article(page.text):
        counter(metrics.CLEAN_NO_BODY).inc()
        raise Rejected(
            "no article body found",
            detail=f"{len(page.text)} characters of body left after removing page chrome; "
            f"title={page.title!r}; removed: {' | '.join(page.removed_lines[:20])[:1500]}",
        )
    if wordless_share(page.text) > MAX_WORDLESS_SHARE:
        raise Rejected("no article body found: the text is a run of characters without word breaks",
                       f"{len(page.text):,} characters, of which {wordless_share(page.text):.0%} in runs over "
                       f"{MAX_WORD_CHARS} characters without a space")
    counter(metrics.cleaned_of_type(doc.content_type)).inc()
    # A new object: Beam elements must not be changed in place.
    return dataclasses.replace(
        doc, title=page.title, text=page.text, language=page.language, date_hint=page.date_hint,
        line_keys=page.line_keys,
    )


class CleanDocuments(beam.PTransform):
    """Boilerplate removal for every document; returns a tuple with `.documents` and `.rejects`."""

    def expand(self, documents):
        return documents | ApplyStage(metrics.CLEAN, clean_document)
