"""Lines written in capitals (headlines, datelines, shouted captions), re-cased for the NER model.

An NER model learns names from their capital letters; in a line of capitals every word has them, and the
model misses most names there ("LEICESTERSHIRE TAKE OVER AT TOP", "BEIJING 1996-08-22"), or takes a
run of words for one name ("GOLF - LEADING SCORES"). The same holds for the words in capitals that open
a line: a dateline run into its paragraph ("WASHINGTON (Reuters) - ...", "LONDON 1996-08-30 Essex won").
`recased` gives the model the same string with those words written as the article writes them elsewhere
("Leicestershire take over at top"): same length, same offsets, so every entity found in it is read back
from the original string as it was written.

A word in capitals takes, in order: the spelling the document uses most outside such lines ("take",
"Leicestershire", "NBP"); lower case if it is an English stopword (spaCy's list: "at", "over"); else a
capital on its first letter only ("Colombo"): a headline's word the article does not use again is often
a name.

Evidence, tune halves of dev/conll and dev/conll-train (about a tenth of their gold names are written in
capitals), the entities stage over the raw text with its first line as title: F1 from 0.737 to 0.761 and
from 0.711 to 0.727 with shouted lines re-cased (unknown words in lower case instead: 0.752 and 0.719;
left in capitals: 0.755 and 0.723). Of the dateline names, joined to the first sentence, the stage found
56 of 105 and 196 of 431; with the opening words re-cased 77 and 327, as many as on a line of their own.
"""

from __future__ import annotations

import collections
import re

from spacy.lang.en.stop_words import STOP_WORDS

SHOUTING_UPPER_SHARE = 0.6  # a line with more capitals than this share of its cased letters is shouted
_TWO_CAPITALS = re.compile(r"[A-Z]{2}")  # cheap test: a line without two capitals in a row is not shouted
_WORD = re.compile(r"[^\W\d_]+")  # a run of letters: "O'BRIEN" is "O" and "BRIEN"
# Words in capitals opening a line, one of them four letters long at least: "NEW YORK", not "US" or "UN".
_OPENING_CAPITALS = re.compile(r"\s*[A-Z][A-Z.'&-]+(?: [A-Z][A-Z.'&-]+)*(?=[\s,(]|$)")
_LONG_CAPITALS = re.compile(r"[A-Z]{4}")


def is_shouted(line: str) -> bool:
    """More than SHOUTING_UPPER_SHARE of the line's cased letters are capitals."""
    cased = [c for c in line if c.isalpha() and c.lower() != c.upper()]
    return bool(cased) and sum(c.isupper() for c in cased) > SHOUTING_UPPER_SHARE * len(cased)


def shouted_lines(text: str) -> list[tuple[int, int]]:
    """(start, end) of every shouted line of `text`, and of the words in capitals that open another line
    (a dateline run into its paragraph: "LONDON 1996-08-30 Essex won", "WASHINGTON (Reuters) - The")."""
    spans, start = [], 0
    for line in text.split("\n"):
        end = start + len(line)
        if _TWO_CAPITALS.search(line):
            if is_shouted(line):
                spans.append((start, end))
            elif (opening := _OPENING_CAPITALS.match(line)) and _LONG_CAPITALS.search(opening.group()):
                spans.append((start, start + opening.end()))
        start = end + 1
    return spans


def recased(text: str) -> str:
    """`text` with the words in capitals of its shouted lines re-cased (see the module's docstring)."""
    spans = shouted_lines(text)
    if not spans:
        return text
    spellings = _document_spellings(text, spans)
    pieces, done = [], 0
    for start, end in spans:
        for match in _WORD.finditer(text, start, end):
            word = match.group()
            if len(word) < 2 or not word.isupper():
                continue
            new = _recased_word(word, spellings)
            if len(new) == len(word):  # a few letters change length with their case ("ß")
                pieces += [text[done : match.start()], new]
                done = match.end()
    return "".join([*pieces, text[done:]])


def _recased_word(word: str, spellings: dict[str, str]) -> str:
    lower = word.lower()
    if lower in spellings:
        return spellings[lower]
    if lower in STOP_WORDS:
        return lower
    return word.capitalize()


def _document_spellings(text: str, shouted: list[tuple[int, int]]) -> dict[str, str]:
    """lower-cased word -> the document's most frequent spelling of it outside its shouted lines."""
    counts: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
    previous_end = 0
    for start, end in [*shouted, (len(text), len(text))]:
        for word in _WORD.findall(text, previous_end, start):
            counts[word.lower()][word] += 1
        previous_end = end
    return {lower: forms.most_common(1)[0][0] for lower, forms in counts.items()}
