"""The records every layer shares: what flows between the stages, and what the driver keeps of a run.

A `Document` is created by the read stage for every input document (a file, or a member of an
archive) and is filled in stage by stage. Stages never drop a document: they return it, or raise
`transforms.routing.Rejected` so that it lands in the `rejects` table as a `RejectRow`. Dedupe gives
each kept article and copy a `Verdict`; every output row records the `RunInfo` of the run that wrote it.

This module is at the bottom: it imports nothing of newsflow, and every other module may import it.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import zlib

# Documents cross every stage boundary pickled, and the local runner holds a whole stage's output in
# its memory until the next stage runs: the long strings travel zlib-compressed (about a third of the
# size, for a few milliseconds per megabyte). Short ones are not worth it. The clean text and the raw
# page are compressed as one stream, text first: the text is mostly a copy of the page's lines, which
# zlib then finds in its window (a third smaller than compressing the two apart, on generated pages).
_PACK_MIN_CHARS = 1024
_PACKED = "_packed"  # the pickled state's key for (characters of text, zlib of text + raw)


class FieldReleased(RuntimeError):
    """A stage read a working field of a Document after the stage that reads it last released it: the
    pipeline puts that stage in the wrong place (a bug of ours, never of the input)."""


@dataclasses.dataclass
class Entity:
    text: str
    label: str
    canonical: str
    start: int  # character offsets into Document.text
    end: int


@dataclasses.dataclass
class Document:
    doc_id: str  # content hash of the raw bytes: same bytes, same id
    source_uri: str  # absolute URI of the input; "uri#member" for a member of an archive
    content_type: str  # "text" or "html"
    encoding: str  # the encoding used to decode the bytes, and how it was chosen
    raw: str | None = ""  # the decoded page, page chrome included; a working field (below)
    modified_at: dt.datetime | None = None  # modification time of the input, when the store has one
    url: str | None = None  # the web address of the page, when the input says (WARC, JSON Lines)
    fetched_at: dt.datetime | None = None  # when a crawler fetched the page (WARC-Date)
    declared_date: dt.date | None = None  # the publication date an export states (JSON Lines)
    title: str | None = None
    text: str = ""  # the clean body, paragraphs separated by a blank line
    language: str | None = None
    published_date: dt.date | None = None
    date_source: str | None = None
    date_confidence: float | None = None
    date_hint: dt.date | None = None  # a date found by the HTML extractor's metadata, if any
    entities: list[Entity] = dataclasses.field(default_factory=list)
    mentioned_dates: list = dataclasses.field(default_factory=list)  # transforms.mentions.MentionedDate
    line_keys: tuple[int, ...] | None = ()  # hashes of a text page's lines, for template learning; a working field
    duplicate_count: int = 0  # how many other input documents are copies of this one
    page_chars: int = 0  # non-space characters of the page's visible text, page chrome included

    # Working fields: what stages read of the page and no table keeps. The stage that reads one last
    # releases it (`release`: set to None), so that documents wait in the runner's memory without it; a
    # stage that reads one says so (`require`), and fails loudly if it ever runs after the release
    # instead of silently working on nothing.
    WORKING_FIELDS = ("raw", "line_keys")

    def release(self, *fields: str) -> Document:
        """A copy without the working `fields` (Beam elements must not be changed in place)."""
        assert set(fields) <= set(self.WORKING_FIELDS), fields
        return dataclasses.replace(self, **dict.fromkeys(fields))

    def require(self, stage: str, *fields: str) -> None:
        """Raise FieldReleased when a working field `stage` reads has been released."""
        released = [name for name in fields if getattr(self, name) is None]
        if released:
            raise FieldReleased(f"the {stage} stage reads Document.{', '.join(released)}, which a stage before it "
                                "released: it must run before that stage (pipelines/ingest.py)")

    def __getstate__(self) -> dict:
        state = self.__dict__.copy()
        text, raw = state["text"], state["raw"]
        if isinstance(text, str) and isinstance(raw, str) and len(text) + len(raw) >= _PACK_MIN_CHARS:
            both = zlib.compress((text + raw).encode("utf-8", "surrogatepass"), 1)
            state["text"], state["raw"], state[_PACKED] = None, None, (len(text), both)
        return state

    def __setstate__(self, state: dict) -> None:
        if _PACKED in state:
            text_chars, both = state.pop(_PACKED)
            unpacked = zlib.decompress(both).decode("utf-8", "surrogatepass")
            state["text"], state["raw"] = unpacked[:text_chars], unpacked[text_chars:]
        self.__dict__.update(state)

    @property
    def boilerplate_share(self) -> float | None:
        """The share of the page's visible text that cleaning removed as page chrome (0..1)."""
        if self.page_chars <= 0:
            return None
        body = len("".join(self.text.split())) + len("".join((self.title or "").split()))
        return round(max(0.0, 1.0 - body / self.page_chars), 3)

    @property
    def address(self) -> str:
        """The page's web address when known, else the input's URI: what tells a page's site and the
        dates in its path."""
        return self.url or self.source_uri


@dataclasses.dataclass(frozen=True)
class RejectRow:
    source_uri: str
    stage: str
    reason: str
    detail: str
    doc_id: str | None = None
    # The page's key (transforms.identity.page_key) when the raw page was there: dedupe gives every
    # other copy of the page this verdict. Not written.
    page: str | None = None


@dataclasses.dataclass(frozen=True)
class Verdict:
    """The dedupe decision for a member of a cluster."""

    duplicate_of: str | None  # doc_id of the kept article; None for the kept article itself
    kind: str | None  # "exact" or "near"
    similarity: float | None
    copies: int = 0  # for the kept article: how many duplicates point at it
    cluster_date: dt.date | None = None  # the earliest reliable publication date in the cluster...
    cluster_date_confidence: float | None = None  # ...and its confidence: for members without a date
    rejected: RejectRow | None = None  # another copy of the page was rejected before dedupe: so is this one


@dataclasses.dataclass(frozen=True)
class RunInfo:
    """What every row records about the run that wrote it."""

    run_id: str
    ingested_at: dt.datetime
    pipeline_version: str

    def columns(self) -> dict:
        return {
            "ingested_at": self.ingested_at,
            "run_id": self.run_id,
            "pipeline_version": self.pipeline_version,
        }
