"""Every line of a text page measured and classified: its features (length, words, stopword density in
the page's language, page chrome, metadata, repeats) and jusText's classes (bad / short / near-good /
good, then context smoothing), with CCNet-style removal of repeated lines and runs of menu items."""
from __future__ import annotations

import dataclasses
import functools
import re
from collections.abc import Iterable
from itertools import pairwise

from transforms.clean_paragraphs import CARRIES_ON
from transforms.identity import hashed_words, line_key
from transforms.language import detect_language, stopwords_for
from transforms.lexicon import BYLINE, COPYRIGHT_LINE, END_OF_ARTICLE, MONTH_PATTERN, MONTHS, WORD, is_ticker

# --- jusText's thresholds (its defaults, which held up on aeb-text) ------------------------------------
LENGTH_LOW = 70  # characters: below this a line is "short" and judged by its neighbours
LENGTH_HIGH = 200  # characters: from here a line with enough stopwords is article text on its own
STOPWORDS_LOW = 0.30  # stopword density under which a line is not prose (lists, headline strips)
STOPWORDS_HIGH = 0.32  # stopword density from which a line reads as prose
NEARGOOD_RUN_CHARS = 300  # near-good lines in a row worth this many characters vouch for each other
SHORT_PROSE_MIN_CHARS = 30  # a short line this long, of this many words, dense in stopwords, is prose
SHORT_PROSE_MIN_WORDS = 5

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

# --- what could be a title or a subheading ------------------------------------------------------------
HEADING_MAX_WORDS = 25  # a title or subheading is a phrase, not a paragraph
TITLE_MAX_CHARS = 250

# --- language -----------------------------------------------------------------------------------------
LANGUAGE_SAMPLE_MIN_CHARS = 200  # fewer characters of sentences than this: sample the longest lines
LANGUAGE_SAMPLE_CHARS = 1000  # enough to name a language; the identifier costs ~0.5 µs a character

# --- words --------------------------------------------------------------------------------------------
LETTERS = re.compile(r"[^\W\d_]")
DIGIT = re.compile(r"\d")
_SENTENCE_END = re.compile(r"[.!?…。！？][\"'”’»)\]]*$")

# --- page chrome (matched against the lower-cased line) -----------------------------------------------
# Whole lines that are page furniture on any news site: generic vocabulary, no site's own strings.
# "*+" (possessive): the leading punctuation is never given back, so a line of 400,000 dashes costs one pass,
# not one per prefix length (the ".*" alternatives below made that quadratic).
CHROME_LINE = re.compile(
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
_URL_ONLY = re.compile(r"^(?:https?://|www\.)\S+$")
_PHOTO_CREDIT = re.compile(r"^(?:photo|image|picture|credit|foto|bild|source|quelle)s?\s*(?:by)?\s*:")
# A headline in capitals with its full stop spaced off, as tokenised wire copy prints it.
_SPACED_STOP_HEADLINE = re.compile(r"^[^a-z]*[A-Z][^a-z]* \.$")
_DIGITS_ONLY = re.compile(r"^[\d\s:./-]+$")  # bare timestamps, counters, page numbers

# --- dates ------------------------------------------------------------------------------------------------
MONTH_WORDS = frozenset(MONTHS)
_DATE = re.compile(rf"\b\d{{1,2}}\.? ?{MONTH_PATTERN} \d{{4}}\b|\b{MONTH_PATTERN} \d{{1,2}}(?:st|nd|rd|th)?,? \d{{4}}\b")
_NUMERIC_DATE = re.compile(r"\d{4}-\d\d-\d\d|\d{1,2} ?[/.-] ?\d{1,2} ?[/.-] ?\d{2,4}\b|\d{1,2}:\d\d\b")


# === 4. lines: features and classification ============================================================

BAD, SHORT, NEARGOOD, GOOD = "bad", "short", "neargood", "good"
_UNDECIDED = "neargood, unless a short line next to it turns out good"


@dataclasses.dataclass
class Line:
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


def page_language(paragraphs: list[str]) -> str | None:
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
    if len(tokens) > DATE_LINE_MAX_WORDS or DIGIT.search(lower) is None:
        return False
    if _NUMERIC_DATE.search(lower):
        return True
    # The month-name patterns are slow to scan for: only lines that name a month pay for them.
    return not MONTH_WORDS.isdisjoint(tokens) and _DATE.search(lower) is not None


def is_furniture(text: str, lower: str, tokens: list[str]) -> bool:
    """The site's furniture, recognisable from the line alone: menus' and buttons' words, links,
    copyright, tickers, cookie banners. A story never prints these."""
    if len(tokens) <= CHROME_LINE_MAX_WORDS and (
        CHROME_LINE.match(lower) or _SHORTCODE.match(text) or _URL_ONLY.match(text) or COPYRIGHT_LINE.search(lower)
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
    if _DIGITS_ONLY.match(text) or not LETTERS.search(text) or _is_date_line(lower, tokens):
        return True
    return words <= BYLINE_MAX_WORDS and (BYLINE.match(lower) or _PHOTO_CREDIT.match(lower)) is not None


def _ends_open(text: str, stoplists: tuple[frozenset[str], ...]) -> bool:
    """Whether the line stops on a lower-case stopword ("...said on"), as a sentence cut by a line break
    does ("...in May" is a headline's month)."""
    words = WORD.findall(text[-40:])
    return bool(words) and words[-1].islower() and any(words[-1] in stopwords for stopwords in stoplists)


def _features(text: str, stoplists: tuple[frozenset[str], ...]) -> Line:
    lower = text.lower()
    tokens = WORD.findall(lower)
    words = len(tokens)
    furniture = is_furniture(text, lower, tokens)
    return Line(
        text=text,
        chars=len(text),
        words=words,
        stopword_density=_stopword_density(tokens, stoplists),
        sentence=_SENTENCE_END.search(text) is not None,
        heading_like=0 < words <= HEADING_MAX_WORDS
        and len(text) <= TITLE_MAX_CHARS
        and (not text.endswith((".", ",", ":", ";")) or _SPACED_STOP_HEADLINE.match(text) is not None)
        and LETTERS.search(text) is not None,
        word_chars=sum(map(len, tokens)),
        key="".join(tokens),
        chrome=furniture or _is_metadata(text, lower, tokens),
        furniture=furniture,
        ends_article=words <= END_MARKER_MAX_WORDS and END_OF_ARTICLE.match(lower) is not None,
        ends_open=_ends_open(text, stoplists),
    )


@functools.lru_cache(maxsize=LINE_CACHE_SIZE)
def _known_features(text: str, stoplists: tuple[frozenset[str], ...]) -> Line:
    """`_features`, remembered: a site prints the same header and footer lines on every page (on a
    generated dump, 84% of the lines of 1,000 pages were seen before). Never changed: see `_fresh`."""
    return _features(text, stoplists)


def _fresh(line: Line) -> Line:
    """A copy of a remembered line, for the classification passes to change (faster than
    dataclasses.replace, which runs __init__)."""
    copy = object.__new__(Line)
    copy.__dict__.update(line.__dict__)
    return copy


def _mark_repeats(lines: list[Line]) -> None:
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


def in_template(paragraph: str, template: frozenset[int]) -> bool:
    return bool(template) and line_key(paragraph) in template


def lines_of(
    paragraphs: list[str], language: str | None, template: frozenset[int]
) -> tuple[list[Line], bool]:
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


def initial_class(line: Line, has_stoplist: bool) -> str:
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


def _is_menu_item(line: Line) -> bool:
    return line.cls == SHORT and line.words <= MENU_LINE_MAX_WORDS and not line.sentence


def _mark_menus(lines: list[Line]) -> None:
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


def _is_short_prose(line: Line, following: Line | None) -> bool:
    """A short line that is part of a sentence cut across lines: text broken at an uneven width. It ends
    on a stopword, or it or the next line carries on in lower case: a list of headlines does neither."""
    return (
        line.cls == SHORT
        and line.chars >= SHORT_PROSE_MIN_CHARS
        and line.words >= SHORT_PROSE_MIN_WORDS
        and line.stopword_density >= STOPWORDS_HIGH
        and (line.ends_open or _carries_on(line) or (following is not None and _carries_on(following)))
    )


def _carries_on(line: Line) -> bool:
    return CARRIES_ON.match(line.text) is not None and line.text[:1].islower()


def _promote_prose_runs(lines: list[Line]) -> None:
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
    run: list[Line] = []
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


def _neighbours_past_inserts(lines: list[Line]) -> tuple[list[str | None], list[str | None]]:
    """Like `_neighbours` skipping short lines, and looking past inserts too.

    Inserts are what a page drops between two paragraphs: an image caption printed twice, a lone
    "ADVERTISEMENT". A subheading right after a caption still stands between two paragraphs. More than
    INSERT_MAX_LINES of them in a row is no insert but a boundary, as bad as any chrome.
    """

    def one_way(order: Iterable[Line]) -> list[str | None]:
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


def _short_line_class(line: Line, before: str | None, after: str | None) -> str:
    """A subheading between two paragraphs stays; a sentence next to the article stays; the rest goes."""
    if before == GOOD and after == GOOD:
        return GOOD
    if line.sentence and line.words >= 3 and GOOD in (before, after) and BAD not in (before, after):
        return GOOD  # the article's first or last sentence, at the edge of the page
    return BAD


def _smooth(lines: list[Line]) -> None:
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


def classify(lines: list[Line], has_stoplist: bool, lenient: bool = False) -> list[Line]:
    """Set every line's class; `lenient` takes near-good lines for good (a post of one paragraph)."""
    for line in lines:
        line.cls, line.menu = initial_class(line, has_stoplist), False
        if lenient and line.cls == NEARGOOD:
            line.cls = GOOD
    _mark_menus(lines)
    _smooth(lines)
    return lines
