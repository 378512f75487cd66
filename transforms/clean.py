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

Where each step lives: 1 and 3 in clean_paragraphs.py, 2 (and datelines, sign-offs) in clean_wire.py, 4 in
clean_lines.py, 5 and 6 (the rules' article and title) in clean_article.py, 7 and 8 here; HTML in
clean_html.py. Vocabulary the dates stage must agree on (months, bylines, copyright, tickers) is in
lexicon.py.
"""
from __future__ import annotations

import dataclasses
import re

import apache_beam as beam
import numpy as np

from schemas.records import Document
from transforms import metrics
from transforms.clean_article import MIN_BODY_LETTERS, has_enough_text, is_table_row, text_article
from transforms.clean_html import CleanedPage, clean_html_page
from transforms.clean_lines import (
    LANGUAGE_SAMPLE_CHARS,
    LETTERS,
    Line,
    in_template,
    initial_class,
    is_furniture,
    lines_of,
    page_language,
)
from transforms.clean_paragraphs import normalise, reflow
from transforms.clean_wire import (
    DATELINE_OF_ITS_OWN,
    SIGNOFF,
    opens_with_dateline,
    wire_paragraphs,
    wire_story,
)
from transforms.identity import hashed_words
from transforms.language import detect_language
from transforms.lexicon import WORD
from transforms.line_classifier import LineClassifier, line_classifier
from transforms.line_features import RuleVerdict, line_features
from transforms.metrics import counter
from transforms.routing import ApplyStage, Rejected, check_time_limit

# Work bounds: what no news page needs, so that one file cannot hold a worker for minutes.
MAX_PAGE_CHARS = 4_000_000  # a page's decoded text or HTML (the longest corpus page is under 1 MB)
MAX_HTML_TAGS = 100_000  # "<" in a page: heavy news pages have some 10,000 (trafilatura takes ~0.3 ms each)
MAX_WORD_CHARS = 1000  # a "word" longer than this is data (base64, a hash, a run of one letter)...
MAX_WORDLESS_SHARE = 0.5  # ...and a body mostly made of such runs is no text
_CLAUSE_MARKS = re.compile(r"[,.;:!?\u3001\u3002\uff0c\uff0e\uff1b\uff1a\uff01\uff1f]")  # Latin and CJK
# A site's sections, as its menu names them.
_SECTION = re.compile(
    r"^[\W_]*+(?:news|sports?|weather|opinions?|business|politics|world|u\.?s\.?|uk|local|national|international"
    r"|entertainment|lifestyle|culture|arts?|tech(?:nology)?|science|health|travel|videos?|economy|markets?|money"
    r"|food|style|education|environment|autos?|real estate|obituaries|podcasts?|newsletters?|more)[\W_]*$"
)
_LINK_BULLET = re.compile(r"^[•·▪►]\s+\w[^.!?]*$")  # "• Read Our Blog" (a story's lists use dashes too)


# === 7-8. the text page, end to end ===================================================================


def _page_lines(raw: str, template: frozenset[int]) -> tuple[str | None, list[Line], RuleVerdict] | None:
    """(language, classified lines, the rules' verdict) of a page that is not bare wire copy; None for
    a page without text. The rules' verdict is what the learned classifier starts from."""
    printed = normalise(raw).split("\n")
    paragraphs = reflow(printed)
    if not paragraphs:
        return None
    # The site's template is in the site's language; the article under it may be in another.
    language = page_language([p for p in paragraphs if not in_template(p, template)] or paragraphs)
    lines, has_stoplist = lines_of(paragraphs, language, template)
    initial = [initial_class(line, has_stoplist) for line in lines]
    title, body = text_article(lines, has_stoplist)
    verdict = RuleVerdict(
        initial_classes=initial, body=frozenset(body), title=title, has_stoplist=has_stoplist,
        datelines=frozenset(i for i, line in enumerate(lines) if opens_with_dateline(line.text)),
        table_rows=frozenset(i for i, line in enumerate(lines) if is_table_row(line)),
        furnished=_furnished(printed, lines),
    )
    return language, lines, verdict


def _furnished(printed: list[str], lines: list[Line]) -> bool:
    """Whether anything on the page is the site's: furniture, also in lines as printed that reflowing
    joined (it joins "Share this:" to its buttons), or a bulleted link ("• Contact Us"). An agency's
    sign-off is the story's. A menu is the site's when it names sections ("News", "Sport"): runs of short
    lines and short repeats alone are not enough (a results table has both)."""
    if any((line.furniture and not SIGNOFF.match(line.text)) or (line.menu and _SECTION.match(line.text.lower()))
           or _is_bulleted_link(line.text) for line in lines):
        return True
    judged = {line.text for line in lines}
    joined = [text for text in map(str.strip, printed) if text and text not in judged]
    return any(
        (is_furniture(text, text.lower(), WORD.findall(text.lower())) and not SIGNOFF.match(text))
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
    lines: list[Line], verdict: RuleVerdict, template: frozenset[int], classifier: LineClassifier
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
    if not has_enough_text(lines, body) and has_enough_text(lines, sorted(verdict.body)):
        counter(metrics.CLEAN_RULES_FALLBACK).inc()
        body = sorted(verdict.body)
    if body:
        body = _grown_to_rules_article(lines, verdict, body)
    return _with_its_dateline(lines, verdict, body)


def _signs_off(lines: list[Line], line: Line) -> bool:
    """The agency's name closing a wire story (" Reuter", " Wirepress" when its dateline credits
    "(Wirepress)"): a sign-off, not the story."""
    name = line.text.strip()
    return SIGNOFF.match(name) is not None or (
        0 < line.words <= SIGNOFF_MAX_WORDS and any(f"({name})" in other.text for other in lines[:DATELINE_MAX_LINES])
    )


def _grown_to_rules_article(lines: list[Line], verdict: RuleVerdict, body: list[int]) -> list[int]:
    """The body's first and last lines moved out over the lines right above and below it that the rules
    took for the article too, and its holes filled with them (a subheading the classifier doubted)."""
    start, end = body[0], body[-1]
    while start - 1 in verdict.body and start - 1 != verdict.title and not lines[start - 1].furniture:
        start -= 1
    while end + 1 in verdict.body and not lines[end + 1].furniture:
        end += 1
    kept = set(body) | verdict.body
    return [index for index in range(start, end + 1) if index in kept]


def _printed_twice_in_a_row(lines: list[Line], index: int) -> bool:
    """A line printed twice in a row is an image's alt text and caption, not the story."""
    key = lines[index].key
    return bool(key) and any(0 <= other < len(lines) and lines[other].key == key for other in (index - 1, index + 1))


def _with_its_dateline(lines: list[Line], verdict: RuleVerdict, body: list[int]) -> list[int]:
    """The body with the story's dateline on a line of its own above it ("PORT ALDER 1996-08-30"), which
    the rules take for page metadata."""
    if not body:
        return body
    above = body[0] - 1
    if above >= 0 and above != verdict.title and DATELINE_OF_ITS_OWN.match(lines[above].text):
        return [above, *body]
    return body  # a dateline opening the rules' article came with it (`_grown_to_rules_article`)


def text_page_features(raw: str) -> tuple[list[str], np.ndarray, int | None] | None:
    """(lines, one row of `line_features.FEATURES` per line, the rules' title line) of a text page, as
    the learned classifier sees them; None for bare wire copy and empty pages (they never reach it)."""
    if wire_story(raw)[1] is not None:
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
    page_lines, headline = wire_story(raw)
    if headline is not None:
        text = "\n\n".join(wire_paragraphs(page_lines[headline + 1 :]))
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


# === the stage ========================================================================================


def has_article(text: str) -> bool:
    """Whether a cleaned body is an article body (letters, not words: Chinese has no spaces)."""
    return len(LETTERS.findall(text)) >= MIN_BODY_LETTERS


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
    doc.require(metrics.CLEAN, "raw")
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
