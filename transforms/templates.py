"""Cross-document template learning: lines a source prints on many different stories are chrome.

A site's menus, "about us" paragraph, newsletter box and the headline of the gallery in its sidebar
recur on every page it publishes. One page alone cannot tell them from article text; the whole dump can.
This stage runs after the per-page cleaner:

1. every cleaned document contributes its lines' keys (`identity.line_key`) to its *source* (the web host,
   else the folder its file sits in);
2. per source, pages are grouped into stories: copies of one story share most of their long lines,
   two different stories of one site share only the site's chrome. A line is template when it recurs
   across at least MIN_STORIES different stories and MIN_STORY_SHARE of the source's stories. Counting
   stories, not pages, keeps the body of a wire story that a folder holds thirty copies of. Lines on most
   of a source's pages (a feed of teasers under every story) do not make two pages one story when each
   has long lines of its own that the other lacks;
3. the learned lines are a side input: a text page whose kept title or body holds one of them is cleaned
   again with those lines marked as chrome; an HTML page's extracted paragraphs lose them.

The counts persist under OUT/_state/templates/ as distinct-count sketches, so the next dump of a source
benefits from this one (a single new page of a known site loses the site's chrome), and re-running a dump
does not count its stories twice.
"""
from __future__ import annotations

import dataclasses
from collections import Counter, defaultdict
from collections.abc import Iterable
from typing import NamedTuple

import apache_beam as beam

from schemas.records import Document
from storage.state import TemplateStatistics
from transforms import metrics
from transforms.clean import clean_text_page, has_article
from transforms.clusters import connected_components
from transforms.identity import line_key, source_of, stable_hash
from transforms.metrics import counter
from transforms.routing import ApplyStage, Rejected, busy

STAGE = metrics.TEMPLATES
STORY_LINE_CHARS = 60  # lines this long are what tells one story from another
SAME_STORY_JACCARD = 0.3  # long lines two copies share (different stories of one site share ~0.1)
SITE_WIDE_SHARE = 0.5  # a long line on this share of a source's pages is the site's (a feed), not a story's
MIN_STORIES = 3  # a line printed on two stories may be a shared quote; on three, the site's furniture
MIN_STORY_SHARE = 0.2  # ...and on this share of the source's stories: a wire background paragraph is not
SKETCH_SIZE = 64  # k of the k-minimum-values sketch: exact counts up to 64 stories, ~12 % error beyond
LEARNING_ROUNDS = 3  # lines learned in one round stop gluing pages into one story in the next
ALL_STORIES = 0  # the line key under which a source's sketch of all its stories is kept (line keys are never 0)


@dataclasses.dataclass(frozen=True)
class PageLines:
    """What one page contributes to its source's statistics."""

    doc_id: str
    keys: tuple[int, ...]  # line_key of every line of the page
    long_keys: tuple[int, ...]  # line_key of the long paragraphs of its cleaned body: its story signature


# ---------------------------------------------------------------------------------------------
# Plain functions (tested without Beam)
# ---------------------------------------------------------------------------------------------


def page_lines(doc: Document) -> PageLines:
    """A page's line keys, and as its story signature the long paragraphs the page cleaner kept.

    A text page's keys are those of every line the page cleaner judged (`Document.line_keys`); an HTML
    page's, those of the paragraphs its extractor kept. The signature is the cleaner's body, not the
    page's long lines: a site's ticker headlines and captions are long too, and would make two different
    stories of one site look like copies.
    """
    doc.require(STAGE, "line_keys")
    paragraphs = [paragraph for paragraph in doc.text.split("\n\n") if paragraph]
    keys = doc.line_keys if doc.content_type == "text" else sorted({line_key(p) for p in paragraphs})
    body = {line_key(paragraph) for paragraph in paragraphs if len(paragraph) >= STORY_LINE_CHARS}
    return PageLines(doc.doc_id, tuple(keys), tuple(sorted(body)))


def similar(a: frozenset[int], b: frozenset[int]) -> bool:
    """Whether two sets of long lines are the same story's: they share enough of them."""
    return len(a & b) >= SAME_STORY_JACCARD * len(a | b)


def site_wide_lines(long_sets: Iterable[frozenset[int]]) -> frozenset[int]:
    """Long lines on at least SITE_WIDE_SHARE of the source's pages (and on MIN_STORIES pages at least).

    A site printing a feed of teasers longer than its stories under every page makes any two of its pages
    share most of their long lines: such lines say nothing about which story a page tells.
    """
    long_sets = list(long_sets)
    pages_by_line = Counter(key for keys in long_sets for key in keys)
    needed = max(MIN_STORIES, SITE_WIDE_SHARE * len(long_sets))
    return frozenset(key for key, pages in pages_by_line.items() if pages >= needed)


def stories_of(pages: list[PageLines], template: frozenset[int] = frozenset()) -> dict[str, str]:
    """doc_id -> story id (the smallest doc_id of the story): pages sharing enough long lines are copies.

    Lines already known as `template` are no evidence: a comment thread the cleaner took for the body
    on several pages of a site does not make them one story. Nor are the site-wide lines, when both pages
    have long lines of their own: two pages under one feed, each with its own different article, are two
    stories. A page with nothing of its own (copies making up most of a folder) is judged on all its lines.
    """
    long_sets = {page.doc_id: frozenset(page.long_keys) - template for page in pages}
    site_wide = site_wide_lines(long_sets.values())
    own = {doc_id: keys - site_wide for doc_id, keys in long_sets.items()}
    pages_by_line: dict[int, list[str]] = defaultdict(list)
    for doc_id, keys in long_sets.items():
        for key in keys:
            pages_by_line[key].append(doc_id)

    def same_story(a: str, b: str) -> bool:
        if not similar(long_sets[a], long_sets[b]):
            return False
        return not own[a] or not own[b] or similar(own[a], own[b])

    def copies() -> Iterable[tuple[str, str]]:
        for doc_id in long_sets:
            yield doc_id, doc_id
        for sharing in pages_by_line.values():
            for other in sharing[1:]:  # a star, not all pairs: a site-wide line is on every page
                if same_story(sharing[0], other):
                    yield sharing[0], other

    return connected_components(copies())


def merge_sketches(*sketches: Iterable[int]) -> tuple[int, ...]:
    """The k smallest distinct hashes of the union: a sketch of the union, however often merged."""
    return tuple(sorted(set().union(*sketches))[:SKETCH_SIZE])


def sketch_count(sketch: tuple[int, ...]) -> float:
    """How many distinct stories a sketch stands for (exact below SKETCH_SIZE)."""
    if len(sketch) < SKETCH_SIZE:
        return float(len(sketch))
    return (SKETCH_SIZE - 1) / ((sketch[-1] + 1) / 2**64)


def _story_sketches(
    pages: list[PageLines], story: dict[str, str], prior: dict[int, tuple[int, ...]]
) -> dict[int, tuple[int, ...]]:
    """line key -> sketch of the stories printing it (ALL_STORIES: every story), earlier runs included."""
    stories_by_line: dict[int, set[int]] = defaultdict(set)
    for page in pages:
        story_hash = stable_hash(story[page.doc_id])
        stories_by_line[ALL_STORIES].add(story_hash)
        for key in page.keys:
            stories_by_line[key].add(story_hash)
    sketches = {key: merge_sketches(hashes) for key, hashes in stories_by_line.items()}
    for key, sketch in prior.items():
        sketches[key] = merge_sketches(sketches.get(key, ()), sketch)
    return sketches


def learn_templates(
    pages: list[PageLines], prior: dict[int, tuple[int, ...]] | None = None
) -> tuple[frozenset[int], dict[int, tuple[int, ...]]]:
    """(template line keys, statistics to persist) for one source.

    `prior` holds the statistics earlier runs persisted for the source: line key -> story sketch.
    Persisted are the lines seen on at least two stories, and under ALL_STORIES all the source's stories.
    """
    # Which pages make one story depends on the order they are compared in: the order of the page
    # contents, not the order bundles and workers delivered them, keeps every run's templates the same.
    pages = sorted(pages, key=lambda page: (page.doc_id, page.keys, page.long_keys))
    template: frozenset[int] = frozenset()
    for _ in range(LEARNING_ROUNDS):
        sketches = _story_sketches(pages, stories_of(pages, template), prior or {})
        counts = {key: sketch_count(sketch) for key, sketch in sketches.items()}
        needed = max(MIN_STORIES, MIN_STORY_SHARE * counts.get(ALL_STORIES, 0.0))
        learned = frozenset(key for key, n in counts.items() if key != ALL_STORIES and n >= needed)
        if learned == template:
            break
        template = learned
    persisted = {key: sketch for key, sketch in sketches.items() if key == ALL_STORIES or counts[key] >= 2}
    return template, persisted


def without_template_lines(text: str, template: frozenset[int]) -> str:
    return "\n\n".join(p for p in text.split("\n\n") if p and line_key(p) not in template)


def apply_template(doc: Document, template: frozenset[int]) -> Document:
    """The document without its source's template lines; rejected when nothing else was article text."""
    kept_lines = [doc.title or "", *doc.text.split("\n\n")]
    if not template or not any(line and line_key(line) in template for line in kept_lines):
        return doc
    if doc.content_type == "text":
        doc.require(STAGE, "raw")
        page = clean_text_page(doc.raw, template)
        title, text, language = page.title, page.text, page.language
    else:  # HTML: the extractor's title comes from the page's metadata, not from its template
        title, text, language = doc.title, without_template_lines(doc.text, template), doc.language
    if not has_article(text):
        raise Rejected(
            "no article body found",
            detail="what looked like the article is text this site prints on many different stories "
            f"(its page template); title={doc.title!r}",
        )
    counter(metrics.TEMPLATES_RECLEANED).inc()
    return dataclasses.replace(doc, title=title, text=text, language=language)


def apply_source_template(doc: Document, templates: dict[str, frozenset[int]]) -> Document:
    return apply_template(doc, templates.get(source_of(doc.address), frozenset()))


def statistics_rows(source: str, persisted: dict[int, tuple[int, ...]]) -> list[dict]:
    return [{"source": source, "line_key": key, "stories": list(sketch)} for key, sketch in persisted.items()]


# ---------------------------------------------------------------------------------------------
# Beam
# ---------------------------------------------------------------------------------------------


def _source_and_lines(doc: Document) -> tuple[str, PageLines]:
    with busy(metrics.TEMPLATES_PAGE_LINES_WORK):
        return source_of(doc.address), page_lines(doc)


class _LearnSourceFn(beam.DoFn):
    """One source's pages and prior statistics in; its template lines and new statistics out."""

    STATISTICS = "statistics"

    def process(self, element):
        source, grouped = element
        pages = list(grouped["pages"])
        with busy(metrics.TEMPLATES_LEARN_WORK):
            template, persisted = learn_templates(pages, dict(grouped["prior"]))
        counter(metrics.TEMPLATES_SOURCES).inc()
        counter(metrics.TEMPLATES_LINES).inc(len(template))
        if template and pages:
            yield source, template
        for row in statistics_rows(source, persisted):
            yield beam.pvalue.TaggedOutput(self.STATISTICS, row)


class LearnedTemplates(NamedTuple):
    templates: beam.PCollection  # (source, template line keys): a side input of `ApplyTemplates`
    statistics: beam.PCollection  # rows of the TEMPLATES state table: earlier and new statistics merged


class LearnTemplates(beam.PTransform):
    """Cleaned documents -> `.templates` (source, template line keys) and `.statistics`, the merged
    statistics the run leaves for the next runs (`prior` holds what earlier runs left)."""

    def __init__(self, prior: TemplateStatistics):
        super().__init__()
        self._prior = prior

    def expand(self, documents):
        pages = documents | "PageLines" >> beam.Map(_source_and_lines)
        prior = (
            documents.pipeline
            | "PriorStatistics" >> beam.Create([self._prior])
            | "ReadStatistics" >> beam.FlatMap(TemplateStatistics.read)
        )
        learned = (
            {"pages": pages, "prior": prior}
            | "BySource" >> beam.CoGroupByKey()
            | "Learn" >> beam.ParDo(_LearnSourceFn()).with_outputs(_LearnSourceFn.STATISTICS, main="templates")
        )
        return LearnedTemplates(learned.templates, learned[_LearnSourceFn.STATISTICS])


class ApplyTemplates(beam.PTransform):
    """Remove each document's source template lines; returns a tuple with `.documents` and `.rejects`."""

    def __init__(self, templates):
        super().__init__()
        self._templates = templates

    def expand(self, documents):
        # Learning the templates was the last use of the line keys: the documents wait for the learned
        # templates without them (a sixth of their size).
        return (
            documents
            | "ReleaseLineKeys" >> beam.Map(Document.release, "line_keys")
            | ApplyStage(STAGE, apply_source_template, beam.pvalue.AsDict(self._templates))
        )
