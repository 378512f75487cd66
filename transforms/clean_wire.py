"""Wire copy: a page that is a bare wire story (headline, blank line, dateline, hard-wrapped body, " Reuter")
is kept whole and re-flowed; datelines and agency sign-offs are recognised wherever they stand."""
from __future__ import annotations

import re

from transforms.clean_lines import CHROME_LINE, TITLE_MAX_CHARS
from transforms.clean_paragraphs import INDENT, MAX_WRAP_WIDTH, join_wrapped, normalise
from transforms.lexicon import MONTH_PATTERN

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


def opens_with_dateline(text: str) -> bool:
    """Whether the line opens with a dateline. Every form has a dash near the start: lines without one
    are not tried (the pattern is costly, and every line of a page is asked)."""
    opening = text[:DATELINE_REACH]
    return ("-" in opening or "—" in opening or "–" in opening) and _DATELINE.match(opening) is not None


# A dateline on a line of its own, above the story: a place in capitals and the day ("LONDON 1996-08-30",
# "PARIS, 5 March 2024"). It is short and dated, so the line rules take it for page metadata.
DATELINE_OF_ITS_OWN = re.compile(
    rf"^[A-Z][A-Z.'&/-]+(?: [A-Z][A-Z.'&/-]*){{0,3}},? (?:\d{{4}}-\d\d-\d\d|\d{{1,2}}\.? (?i:{MONTH_PATTERN}),? \d{{4}}|(?i:{MONTH_PATTERN}) \d{{1,2}},? \d{{4}})$"
)
# An agency's sign-off closing a story (" Reuter", "REUTER...", or typed at the end of the last line),
# and " MORE": the story goes on in another take.
SIGNOFF = re.compile(r"^\s*reuters?\b.{0,12}$", re.IGNORECASE)
_GLUED_SIGNOFF = re.compile(r"^(.*[.!?)\"'])\s+(?:REUTERS?|Reuters?)\s*$")
_MORE_TO_COME = re.compile(r"^\s*more\s*$", re.IGNORECASE)


# === 2. wire stories ===================================================================================


def _without_signoff(lines: list[str]) -> tuple[list[str], bool]:
    """The page without trailing blank lines and a wire sign-off; and whether an agency signed it."""
    lines = list(lines)
    signed = False
    while True:
        while lines and not lines[-1].strip():
            lines.pop()
        if lines and SIGNOFF.match(lines[-1]):
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
    if body and opens_with_dateline(body[0].strip()):
        return first
    hard_wrapped = all(len(line) <= MAX_WRAP_WIDTH for line in body)
    # A web page can end with an agency's name too (a photo credit): then it also has menus.
    has_chrome = any(CHROME_LINE.match(line.strip().lower()) for line in body)
    return first if signed and hard_wrapped and not has_chrome else None


def wire_paragraphs(lines: list[str]) -> list[str]:
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
            paragraphs.append(join_wrapped(run))
        else:
            paragraphs.extend(run)
    return paragraphs


def wire_story(raw: str) -> tuple[list[str], int | None]:
    """The page's lines (sign-off removed when it is wire copy) and the wire headline's line, if any."""
    page_lines, signed = _without_signoff(normalise(raw).split("\n"))
    return page_lines, _wire_headline(page_lines, signed)
