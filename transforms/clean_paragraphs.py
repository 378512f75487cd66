"""From a raw text dump to paragraphs, before any line is judged: characters and line breaks normalised,
hard-wrapped passages re-flowed (so a 65-column line is judged as part of its paragraph)."""
from __future__ import annotations

import re
import unicodedata
from itertools import pairwise

# --- hard-wrapped text ---------------------------------------------------------------------------------
MIN_WRAP_WIDTH = 40  # text is hard-wrapped at 40..110 columns (Reuters: ~65, e-mail: ~72-80)
MAX_WRAP_WIDTH = 110
MIN_WRAPPED_LINES = 4  # fewer candidate lines than this is no evidence of hard wrapping
WRAPPED_SHARE = 0.6  # share of candidate lines that must end just under the wrap width...
WRAP_BAND = 0.25  # ...that is, within this fraction of it
WRAP_CARRY_ON_SHARE = 0.35  # share of candidate lines whose next line goes on in lower case (wire: ~0.7)

# --- normalisation and wrapping -----------------------------------------------------------------------
_LINE_BREAKS = re.compile(r"\r\n?|[\u2028\u2029\x85]")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u200b-\u200f\u2060\ufeff\u00ad]")
_SPACES = re.compile(r"[\u00a0\u1680\u2000-\u200a\u202f\u205f\u3000]")
_CLAUSE_END = re.compile(r"[.!?…。！？:;][\"'”’»)\]]*\s*$")
CARRIES_ON = re.compile(r"\s*(?:[a-zß-ÿ]|[(“\"‘'])")  # a wrapped line's continuation: lower case, a quote
INDENT = re.compile(r"^(?: {2,}|\t)")  # a paragraph's first line in wire layout


# === 1. normalisation ==================================================================================


def normalise(raw: str) -> str:
    """Unicode NFC, one kind of line break, no control or zero-width characters, plain spaces."""
    text = _LINE_BREAKS.sub("\n", unicodedata.normalize("NFC", raw))
    text = text.replace("\t", "    ")  # a tab opens a paragraph in wire layout, like an indent
    text = _CONTROL.sub("", text)
    return _SPACES.sub(" ", text)


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
    carried_on = sum(1 for _, following in candidates if CARRIES_ON.match(following))
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
    return nearly_full and CARRIES_ON.match(following) is not None and not _CLAUSE_END.search(line)


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


def join_wrapped(parts: list[str]) -> str:
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
                paragraphs.append(join_wrapped(current))
                current = [line.strip()]
        paragraphs.append(join_wrapped(current))
    return paragraphs
