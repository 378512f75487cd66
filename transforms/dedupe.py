"""Exact and near-duplicate detection on the clean text.

Exact copies come first: documents whose pages are the same once whitespace is ignored (byte-identical
files, CRLF or re-indented copies) form one group whatever their clean texts (the same page in two
folders loses different template lines), and the group goes on as one representative. Near duplicates
(the same wire story in other page chrome, lightly edited, trimmed) are found with MinHash LSH over word
shingles of the clean text: documents that collide in one band become candidate pairs, verified by their
estimated Jaccard similarity, less the share of the places (a detail's words either side) where they put
other figures or names (two reports of one template differ there, copies do not), by the numbers they
quote (templated earnings notices differ mainly in numbers) and, for two pages of one source, by how
their texts open (two stories under one site's leftover chrome share the chrome, not their openings)
and, for two pages of one source in the same frame (first and last lines), by their texts differing at
all (such pages that clean to the same text may hold nothing but the site's chrome). Other texts equal
after normalisation collide in every band and verify at 1.0. A page rejected before dedupe rejects its
other copies. Connected components of exact groups and verified pairs are the clusters; each keeps one
article, chosen by `kept_order`, and every other member becomes a `duplicates` row pointing at it. Every
decision depends on the documents only, never on their order: the same dump gives the same clusters on
any runner, bundle size or number of workers.
"""
from __future__ import annotations

import array
import dataclasses
import datetime as dt
import hashlib
import itertools
import re
import unicodedata
import zlib
from collections.abc import Iterable

import apache_beam as beam
from ftfy.badness import badness
from rensa import RMinHash

from schemas.records import Document, RejectRow, Verdict
from schemas.tables import INDEX_ARTICLES, INDEX_KEYS, index_shard
from storage.state import IndexReader
from transforms import metrics
from transforms.clusters import connected_components
from transforms.identity import page_key, source_of, stable_hash
from transforms.metrics import counter
from transforms.routing import REJECTS, RejectRoute

# Chosen by benchmarks/dedupe_parameters.py on dev/dedup (shingles 2-5 x thresholds 0.3-0.7): 3-grams
# give the best band recall (0.963 of gold pairs become candidates) and F1 (0.964 at 0.5, 0.966 at 0.4);
# 0.5 rather than 0.4 for precision (0.967 vs 0.964); at 0.6 recall drops to 0.945. 3-grams also survive
# light edits better than 5-grams (seeds 000/001: 0.76 vs 0.66).
SHINGLE_WORDS = 3
NUM_PERMUTATIONS = 128
BANDS = 32  # 32 bands x 4 rows: a pair with Jaccard 0.6 collides in some band with p > 0.98
ROWS_PER_BAND = NUM_PERMUTATIONS // BANDS
MINHASH_SEED = 20170120
NEAR_DUPLICATE_MIN_JACCARD = 0.5
# Look-alike guard: texts quoting this many numbers must share most of them to be the same story.
GUARD_MIN_NUMBERS = 3
GUARD_MIN_SHARED_NUMBERS = 0.6  # of the smaller document's distinct numbers
# Look-alike guard on details: a copy desk trims, rewords aliases and adds bylines and notes, but never
# puts another figure or name where the story has one; two reports of one template differ exactly there
# ("PARIS, March 30 - The French Treasury will issue..." against "PARIS, March 3 - ..."). A detail is a
# figure, a number word or a capitalised word that does not open its sentence; its slot, the words either
# side of it in its sentence. The share of the slots both texts fill that they fill with different details
# is taken, weighed, off the pair's similarity. On tune seeds 111-120 (the pairs LSH makes), a template
# pair at 0.500 has 1 of 7 shared slots in conflict (0.43 after); copies of one story 0, or at most 1 of 14
# (0.562, after 0.526: a copy whose "9.6 pct" became "9.6%", in the slot of another sentence's "10.1%").
DETAIL_CONTEXT_WORDS = 2
DETAIL_CONFLICT_WEIGHT = 0.5
# An LSH bucket this large is one popular text (boilerplate that survived cleaning, a template):
# pairing all its members is quadratic, so each member is paired with the bucket's first one only.
MAX_BUCKET_FOR_ALL_PAIRS = 100
CLUSTER_DATE_MIN_CONFIDENCE = 0.6  # a date from a path folder or better; a lone header date is not shared
# Index keys: b"=" + content hash, b"#" + doc_id (the bytes); band keys start with their band number (0..31).
EXACT_KEY_PREFIX = b"="
BYTES_KEY_PREFIX = b"#"
# Two pages of one source may share its leftover chrome (a site's feed of teasers that template learning
# missed): they must also share how their texts open. On tune seeds 1-3 (benchmarks/dedupe_parameters.py
# --seeds tune --openings-only), of the same-source pairs that pass the similarity and numbers checks,
# with no template learned at all: 488 pairs of different stories, 2 of them sharing >= 0.25 of their
# openings' word triples (the same chrome on top), and 7 of one story, sharing >= 0.50; with templates as
# learned, no pair of different stories is left, and the 5 of one story share >= 0.86. The copies in one
# folder of samples/dump and of ../shared/corpus/seeds (000/001) share 0.97 and 0.86.
OPENING_WORDS = 100
OPENING_MIN_SHARED = 0.25  # of the smaller opening's distinct word triples
# A letter of Latin-1's upper half followed by a byte of UTF-8's continuation range, as cp1252 shows it.
_MOJIBAKE_HINT = re.compile(
    "[\u00c2-\u00f4][\u0080-\u00bf\u0152\u0153\u0160\u0161\u0178\u017d\u017e\u0192\u02c6\u02dc"
    "\u2013\u2014\u2018-\u201e\u2020-\u2022\u2026\u2030\u2039\u203a\u20ac\u2122]"
)
_WORD = re.compile(r"\w+")
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
_TOKEN = re.compile(r"\d+(?:[.,]\d+)*|\w+")  # a figure ("6,561,000", "8.50") is one token
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+|\n+")
_NUMBER_WORDS = frozenset((
    "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve",
    "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen", "twenty", "thirty",
    "forty", "fifty", "sixty", "seventy", "eighty", "ninety", "hundred", "thousand",
))


# ---------------------------------------------------------------------------------------------
# Plain functions (tested without Beam)
# ---------------------------------------------------------------------------------------------


def normalized_words(text: str) -> list[str]:
    """Words of a text, case-folded and Unicode-normalised: what 'the same text' means here."""
    return _WORD.findall(unicodedata.normalize("NFKC", text).casefold())


def content_hash(text: str) -> str:
    """Hash of the normalised text: equal for texts that differ only in case, spacing, punctuation."""
    return _words_hash(normalized_words(text))


def _words_hash(words: list[str]) -> str:
    return hashlib.blake2b(" ".join(words).encode(), digest_size=16).hexdigest()


def shingles(words: list[str], size: int = SHINGLE_WORDS) -> list[str]:
    if len(words) <= size:
        return [" ".join(words)] if words else []
    return list(map(" ".join, zip(*(words[i:] for i in range(size)))))  # twice as fast as slicing


def minhash_signature(text: str, shingle_words: int = SHINGLE_WORDS) -> bytes:
    """The MinHash signature, packed as 32-bit values (512 bytes): cheap to shuffle and compare."""
    return _shingles_signature(shingles(normalized_words(text), shingle_words))


def _shingles_signature(text_shingles: list[str]) -> bytes:
    minhash = RMinHash(num_perm=NUM_PERMUTATIONS, seed=MINHASH_SEED)
    minhash.update(text_shingles)
    return array.array("I", minhash.digest()).tobytes()


def band_keys(signature: bytes) -> list[tuple[int, bytes]]:
    """One LSH key per band: documents sharing any key are candidate near duplicates."""
    width = 4 * ROWS_PER_BAND
    return [
        (band, hashlib.blake2b(signature[band * width : (band + 1) * width], digest_size=8).digest())
        for band in range(BANDS)
    ]


def estimated_jaccard(a: bytes, b: bytes) -> float:
    x, y = array.array("I", a), array.array("I", b)
    return sum(p == q for p, q in zip(x, y)) / len(x)


def opening_hashes(text_shingles: list[str]) -> bytes:
    """The word triples a text opens with (its first OPENING_WORDS words), as sorted 16-bit hashes:
    enough to tell two openings apart."""
    opening = text_shingles[: max(1, OPENING_WORDS - SHINGLE_WORDS + 1)]
    return array.array("H", sorted({zlib.crc32(triple.encode()) & 0xFFFF for triple in opening})).tobytes()


def opening_share(a: bytes, b: bytes) -> float:
    """The share of the smaller opening's word triples the other opening has too (1.0 for an empty one)."""
    x, y = set(array.array("H", a)), set(array.array("H", b))
    smaller = min(len(x), len(y))
    return len(x & y) / smaller if smaller else 1.0


def openings_agree(a: bytes, b: bytes) -> bool:
    """Whether two texts open with the same story: they share enough of their opening word triples."""
    return opening_share(a, b) >= OPENING_MIN_SHARED


def _in_its_buckets(sid: int, candidate: Candidate) -> list[tuple]:
    """(band key, (short id, text of source)) for every band: the member is made once, not per band."""
    member = (sid, text_of_source(candidate))
    return [(band, member) for band in band_keys(candidate.signature)]


def page_frame(raw: str) -> int:
    """The page's first and last lines (its header and footer, on a page in chrome), as a 64-bit hash:
    two pages in the same frame that clean to the same text may hold nothing but that frame's chrome."""
    page = raw.strip()
    first, last = page.partition("\n")[0], page.rpartition("\n")[2]
    return stable_hash(f"{first.strip()}\n{last.strip()}", signed=True)


def garbled_marks(text: str) -> int:
    """Replacement characters and mojibake ("cafÃ©", "â€™": UTF-8 read as Latin-1 or cp1252) in a text, by
    ftfy's own measure (the read stage repairs with ftfy; the hint alone also takes "José—" for one).
    ftfy's measure costs 4 ms on a 11 kB page, the hint 0.08 ms: only a page with a hint is measured.
    A copy decoded wrongly never represents its cluster when a clean one exists."""
    replaced = text.count("\ufffd")
    return replaced + badness(text) if _MOJIBAKE_HINT.search(text) else replaced


def short_id(key: str) -> int:
    """A 64-bit id of a document key: what LSH buckets carry instead of whole candidates. Signed: Beam
    encodes a signed 64-bit int as a varint, twice as fast as an unsigned one it pickles."""
    return stable_hash(key, signed=True)


def quoted_numbers(text: str) -> frozenset[str]:
    return frozenset(_NUMBER.findall(text))


def numbers_agree(a: frozenset[str], b: frozenset[str]) -> bool:
    """False when two texts quote enough numbers and share too few of them (look-alike templates)."""
    smaller = min(len(a), len(b))
    if smaller < GUARD_MIN_NUMBERS:
        return True
    return len(a & b) / smaller >= GUARD_MIN_SHARED_NUMBERS


def detail_slots(text: str) -> bytes:
    """The details of a text in their slots (`DETAIL_CONTEXT_WORDS` words either side, in one sentence), as
    sorted 32-bit (slot hash, detail hash) pairs."""
    width = DETAIL_CONTEXT_WORDS
    slots = set()
    for sentence in _SENTENCE_END.split(text):
        tokens = _TOKEN.findall(sentence)
        words = [token.casefold() for token in tokens]
        for i in range(width, len(tokens) - width):
            token = tokens[i]
            if token[0].isdigit() or token[0].isupper() or words[i] in _NUMBER_WORDS:
                slot = " ".join(words[i - width : i] + words[i + 1 : i + 1 + width])
                slots.add((zlib.crc32(slot.encode()), zlib.crc32(words[i].encode())))
    return array.array("I", itertools.chain.from_iterable(sorted(slots))).tobytes()


def details_conflict(a: bytes, b: bytes) -> float:
    """The share of the slots both texts fill where neither puts a detail the other puts there (0.0 when
    they share no slot, or one has no details: an earlier run's article)."""
    def by_slot(packed: bytes) -> dict[int, set[int]]:
        values = array.array("I", packed)
        slots: dict[int, set[int]] = {}
        for slot, detail in zip(values[::2], values[1::2]):
            slots.setdefault(slot, set()).add(detail)
        return slots

    x, y = by_slot(a), by_slot(b)
    shared = x.keys() & y.keys()
    return sum(1 for slot in shared if not x[slot] & y[slot]) / len(shared) if shared else 0.0


@dataclasses.dataclass(frozen=True)
class Candidate:
    """What dedupe needs to know of a document: small, so shuffles stay cheap."""

    key: str  # source_uri: unique per input document (doc_id is shared by byte-identical copies)
    doc_id: str
    content_hash: str
    published_date: dt.date | None
    length: int
    signature: bytes
    numbers: frozenset[str]
    earlier_run: bool = False  # a kept article of an earlier run, from the index
    date_confidence: float | None = None
    page: str = ""  # page_key: documents with the same page are one exact group ("" for earlier runs)
    source: str | None = None  # the site or folder (identity.source_of); None for earlier runs
    opening: bytes = b""  # opening_hashes (b"" for earlier runs: the index does not keep them)
    garbled: int = 0  # garbled_marks of the title and text
    frame: int = 0  # page_frame: what surrounds the text (0 for earlier runs)
    details: bytes = b""  # detail_slots (b"" for earlier runs: the index does not keep them)


def page_candidate(doc: Document) -> Candidate:
    """The candidate of a page as dedupe compares it: its copies are found by the raw page (`page`,
    `frame`), which must still be there."""
    doc.require(metrics.DEDUPE, "raw")
    return candidate_of(doc)


def candidate_of(doc: Document) -> Candidate:
    """What comparing a document needs of it (without the raw page, as the index keeps it: no page key
    beyond the doc_id, an empty frame)."""
    words = normalized_words(doc.text)  # once for the hash, the signature and the opening
    text_shingles = shingles(words)
    return Candidate(
        key=doc.source_uri,
        doc_id=doc.doc_id,
        content_hash=_words_hash(words),
        published_date=doc.published_date,
        length=len(doc.text),
        signature=_shingles_signature(text_shingles),
        numbers=quoted_numbers(doc.text),
        date_confidence=doc.date_confidence,
        page=page_key(doc),
        source=source_of(doc.address),
        opening=opening_hashes(text_shingles),
        garbled=garbled_marks(f"{doc.title or ''}\n{doc.text}"),
        frame=page_frame(doc.raw or ""),
        details=detail_slots(doc.text),
    )


def kept_order(candidate: Candidate) -> tuple:
    """Which copy a cluster keeps: an article of an earlier run; else the least garbled text, then the
    earliest publication date (undated last), then the most complete text, then the smallest doc_id (and
    source URI, for byte-identical copies)."""
    date = candidate.published_date
    # An article an earlier run published stays the kept one: its rows and links are already out there.
    return (not candidate.earlier_run, candidate.garbled, date is None, date or dt.date.max, -candidate.length,
            candidate.doc_id, candidate.key)


def representative_order(candidate: Candidate) -> tuple:
    """Which member of a page group stands for it in the near-duplicate search: the one whose source's
    template removed the most of the page (the same page in a folder whose chrome is not learned keeps
    that chrome), then as kept."""
    return (candidate.length, *kept_order(candidate))


def page_group(copies: Iterable[Candidate]) -> list[Candidate]:
    """The copies of one page, its representative first (`representative_order`). A page printed in
    several sources' folders is no one source's page: its representative has no source, and the checks
    of two pages of one source (openings, equal texts) do not apply to it."""
    group = sorted(copies, key=representative_order)
    if len({copy.source for copy in group}) > 1:
        group[0] = dataclasses.replace(group[0], source=None)
    return group


def same_source(a: Candidate, b: Candidate) -> bool:
    return a.source is not None and a.source == b.source


def is_near_duplicate(a: Candidate, b: Candidate) -> float | None:
    """The estimated similarity of a verified near-duplicate pair, or None."""
    similarity = estimated_jaccard(a.signature, b.signature)
    if similarity < NEAR_DUPLICATE_MIN_JACCARD or not numbers_agree(a.numbers, b.numbers):
        return None
    if similarity - DETAIL_CONFLICT_WEIGHT * details_conflict(a.details, b.details) < NEAR_DUPLICATE_MIN_JACCARD:
        return None
    if same_source(a, b):
        if a.content_hash == b.content_hash and a.frame == b.frame:
            # Two pages of one site in the same frame (first and last lines) that clean to the same
            # text: the text may be what the site prints around its stories (a comment thread, a
            # caption, a feed of teasers the cleaner kept for two short stories it dropped), and tells
            # nothing of their stories. In other frames (another outlet's chrome in a delivery's batch
            # folder) it is no frame's chrome. Copies of one page are one exact group already.
            counter(metrics.DEDUPE_SAME_SOURCE_EQUAL_TEXTS).inc()
            return None
        if not openings_agree(a.opening, b.opening):
            counter(metrics.DEDUPE_SAME_SOURCE_OPENINGS_DIFFER).inc()
            return None
    return similarity


def text_of_source(candidate: Candidate) -> int:
    """What makes pages 'the same text' in an LSH bucket: the content hash and the source. Equal texts
    of other sources are distinct: a page pairs with them whatever its own site's pages say."""
    return short_id(f"{candidate.content_hash} {candidate.source or ''}")


def bucket_pairs(members: Iterable[tuple[int, int]]) -> Iterable[tuple[int, int]]:
    """Candidate pairs (ordered short ids) of one LSH bucket of (short id, `text_of_source` id).

    Pages of one source with equal texts are paired with the first of them only (a star, not all pairs:
    the verdict is the same for each pair): the many pages a cleaner reduces to one text cost little."""
    first_of_text: dict[int, int] = {}
    equal_texts = []
    for sid, text in sorted(set(members)):
        first = first_of_text.setdefault(text, sid)
        if first != sid:
            equal_texts.append((first, sid))
    distinct = sorted(first_of_text.values())
    if len(distinct) > MAX_BUCKET_FOR_ALL_PAIRS:
        return itertools.chain(equal_texts, ((distinct[0], other) for other in distinct[1:]))
    return itertools.chain(equal_texts, itertools.combinations(distinct, 2))


def verified_pairs(
    pair: tuple[int, int], candidates: dict[int, Candidate]
) -> Iterable[tuple[Candidate, Candidate]]:
    a, b = candidates[pair[0]], candidates[pair[1]]
    if is_near_duplicate(a, b):
        yield a, b


def cluster_date(cluster: list[Candidate]) -> tuple[dt.date | None, float | None]:
    """The earliest reliable date of a cluster's members of this run (dateline, byline, URL, metadata,
    timestamp: not a lone header date) and its confidence; (None, None) when none has one."""
    reliable = [
        (c.published_date, c.date_confidence) for c in cluster
        if c.published_date and (c.date_confidence or 0) >= CLUSTER_DATE_MIN_CONFIDENCE and not c.earlier_run
    ]
    return min(reliable) if reliable else (None, None)


def resolve_clusters(
    exact_groups: list[list[Candidate]], pairs: list[tuple[Candidate, Candidate]]
) -> dict[str, Verdict]:
    """Union exact groups and verified pairs into clusters; a Verdict for every clustered document.

    An exact group's first member stands for the others (a page's representative, an earlier article
    with the same bytes): a cluster keeps one of its stand-ins or ungrouped members, never a page's copy
    that kept more of its chrome. A member is an exact copy of the kept article when an exact group links
    them or their texts are equal; else a near copy."""
    members: dict[str, Candidate] = {}
    for candidate in itertools.chain(*exact_groups, *pairs):
        members.setdefault(candidate.key, candidate)
    stood_for = {other.key for group in exact_groups for other in group[1:]}
    exact_links = [(group[0].key, other.key) for group in exact_groups for other in group[1:]]
    exact_root = connected_components(exact_links)
    clusters: dict[str, list[Candidate]] = {}
    for key, root in connected_components(exact_links + [(a.key, b.key) for a, b in pairs]).items():
        clusters.setdefault(root, []).append(members[key])

    verdicts: dict[str, Verdict] = {}
    for cluster in clusters.values():
        kept = min((member for member in cluster if member.key not in stood_for), key=kept_order)
        date, confidence = cluster_date(cluster)
        verdicts[kept.key] = Verdict(None, None, None, len(cluster) - 1, date, confidence)
        for member in cluster:
            if member is kept:
                continue
            same_group = member.key in exact_root and exact_root[member.key] == exact_root.get(kept.key)
            if same_group or member.content_hash == kept.content_hash:
                verdicts[member.key] = Verdict(kept.doc_id, "exact", 1.0, 0, date, confidence)
            else:
                similarity = estimated_jaccard(member.signature, kept.signature)
                verdicts[member.key] = Verdict(kept.doc_id, "near", similarity, 0, date, confidence)
    return verdicts


def with_cluster_date(doc: Document, verdict: Verdict) -> Document:
    """A member without a date of its own takes its cluster's earliest reliable date."""
    if doc.published_date is not None or verdict.cluster_date is None:
        return doc
    counter(metrics.DEDUPE_DATED_FROM_CLUSTER).inc()
    return dataclasses.replace(
        doc, published_date=verdict.cluster_date, date_source="cluster", date_confidence=verdict.cluster_date_confidence
    )


# --- the cross-run index (transforms/index.py) -------------------------------------------------


def index_keys(candidate: Candidate) -> list[bytes]:
    """The lookup keys of an indexed document: its content hash, its bytes (doc_id), one key per LSH band."""
    exact = EXACT_KEY_PREFIX + bytes.fromhex(candidate.content_hash)
    return [exact, bytes_key(candidate.doc_id),
            *(bytes([band]) + digest for band, digest in band_keys(candidate.signature))]


def bytes_key(doc_id: str) -> bytes:
    """The index key of a document's bytes: a later file with the same bytes is a copy, whatever its text."""
    return BYTES_KEY_PREFIX + doc_id.encode()


def earlier_key(doc_id: str) -> str:
    """The Candidate key of an earlier run's article (never a source URI of this run)."""
    return f"index:{doc_id}"


def index_rows(doc: Document, duplicate_of: str | None = None) -> dict[str, list[dict]]:
    """The index rows of a kept article (or of a near copy of `duplicate_of`): its keys, and what
    verifying a later copy needs. Near copies are indexed too: a later copy may be closer to one of them
    than to the kept article (a trimmed copy of a trimmed copy)."""
    candidate = candidate_of(doc)
    article = {
        "doc_id": candidate.doc_id,
        "duplicate_of": duplicate_of,
        "content_hash": candidate.content_hash,
        "published_date": candidate.published_date,
        "length": candidate.length,
        "signature": candidate.signature,
        "numbers": sorted(candidate.numbers),
    }
    keys = [{"key": key, "doc_id": candidate.doc_id} for key in index_keys(candidate)]
    return {INDEX_KEYS: keys, INDEX_ARTICLES: [article]}


def earlier_candidate(row: dict) -> Candidate:
    """An earlier run's article, or its near copy standing in for it (a match points at the article)."""
    return Candidate(
        key=earlier_key(row["doc_id"]),
        doc_id=row.get("duplicate_of") or row["doc_id"],
        content_hash=row["content_hash"],
        published_date=row["published_date"],
        length=row["length"],
        signature=row["signature"],
        numbers=frozenset(row["numbers"]),
        earlier_run=True,
    )


# ---------------------------------------------------------------------------------------------
# Beam
# ---------------------------------------------------------------------------------------------


class _MatchIndexFn(beam.DoFn):
    """(shard, [(key, short id)] of this run) -> (short id, doc_id of an earlier article sharing a key);
    tagged SAME_BYTES when the key is the document's bytes: a copy without verification."""

    SAME_BYTES = "same_bytes"

    def __init__(self, index: IndexReader, forgotten: frozenset[str]):
        self._index = index
        self._forgotten = forgotten

    def process(self, element):
        shard, keyed = element
        sids_by_key: dict[bytes, list[int]] = {}
        for key, sid in keyed:
            sids_by_key.setdefault(key, []).append(sid)
        found = self._index.lookup(INDEX_KEYS, shard, sids_by_key, ["key", "doc_id"])
        earlier_by_key: dict[bytes, list[str]] = {}
        for key, doc_id in zip(found.column("key").to_pylist(), found.column("doc_id").to_pylist()) if found.num_rows else ():
            if doc_id not in self._forgotten:
                earlier_by_key.setdefault(key, []).append(doc_id)
        for key, doc_ids in earlier_by_key.items():
            same_bytes = key.startswith(BYTES_KEY_PREFIX)
            for doc_id in sorted(doc_ids)[:MAX_BUCKET_FOR_ALL_PAIRS]:  # a popular bucket: its first members
                for sid in sids_by_key[key]:
                    yield beam.pvalue.TaggedOutput(self.SAME_BYTES, (sid, doc_id)) if same_bytes else (sid, doc_id)


class _FetchEarlierFn(beam.DoFn):
    """(shard, doc_ids) -> (short id, Candidate) of earlier articles, read from the index."""

    def __init__(self, index: IndexReader):
        self._index = index

    def process(self, element):
        shard, doc_ids = element
        for row in self._index.lookup(INDEX_ARTICLES, shard, doc_ids).to_pylist():
            candidate = earlier_candidate(row)
            yield short_id(candidate.key), candidate


def _with_earlier(sid: int, doc_id: str) -> tuple[int, int]:
    return tuple(sorted((sid, short_id(earlier_key(doc_id)))))


class _EarlierPairs(beam.PTransform):
    """This run's representatives -> (candidate pairs with earlier articles, pairs with earlier files of
    the same bytes, those earlier Candidates)."""

    def __init__(self, index: IndexReader, forgotten: frozenset[str]):
        super().__init__()
        self._index = index
        self._forgotten = forgotten

    def expand(self, representatives):
        matches = (
            representatives
            | "IndexKeys" >> beam.FlatMapTuple(lambda sid, c: [(index_shard(k), (k, sid)) for k in index_keys(c)])
            | "KeysByShard" >> beam.GroupByKey()
            | "MatchIndex" >> beam.ParDo(_MatchIndexFn(self._index, self._forgotten)).with_outputs(
                _MatchIndexFn.SAME_BYTES, main="similar")
        )
        earlier = (
            (matches.similar, matches[_MatchIndexFn.SAME_BYTES])
            | "AllMatches" >> beam.Flatten()
            | "EarlierIds" >> beam.MapTuple(lambda _, doc_id: doc_id)
            | "DistinctEarlier" >> beam.Distinct()
            | "EarlierByShard" >> beam.Map(lambda doc_id: (index_shard(doc_id), doc_id))
            | "GroupEarlier" >> beam.GroupByKey()
            | "FetchEarlier" >> beam.ParDo(_FetchEarlierFn(self._index))
        )
        pairs = matches.similar | "EarlierPairs" >> beam.MapTuple(_with_earlier)
        same_bytes = matches[_MatchIndexFn.SAME_BYTES] | "SameBytesPairs" >> beam.MapTuple(_with_earlier)
        return pairs, same_bytes, earlier


REJECTED_COPIES = "rejected_copies"


def page_group_or_rejected(page: str, copies: Iterable[Candidate], rejected: dict[str, RejectRow]):
    """The page's group (`page_group`); or, when another copy of the page was rejected before dedupe
    (its site's template left no article in it), a Verdict rejecting each of these copies too."""
    reject = rejected.get(page)
    if reject is None:
        yield page_group(copies)
        return
    for copy in copies:
        yield beam.pvalue.TaggedOutput(REJECTED_COPIES, (copy.key, Verdict(None, None, None, rejected=reject)))


def first_reject(rejects: Iterable[RejectRow]) -> RejectRow:
    """The reject a page's other copies follow when several copies were rejected: the same on every run."""
    return min(rejects, key=lambda reject: (reject.source_uri, reject.stage, reject.reason))


def copy_reject(doc: Document, reject: RejectRow) -> RejectRow:
    detail = f"the same page as {reject.source_uri}, rejected by the {reject.stage} stage: {reject.detail}"
    return RejectRow(doc.source_uri, "dedupe", reject.reason, detail[:2000], doc.doc_id)


class _SplitFn(beam.DoFn):
    """Send each document to `articles` or, with its verdict, to `duplicates` or `rejects`."""

    def setup(self):
        self._rejects = RejectRoute(metrics.DEDUPE, metrics.DEDUPE_REJECTED_COPIES)

    def process(self, doc: Document, verdicts: dict[str, Verdict]):
        verdict = verdicts.get(doc.source_uri)
        if verdict is not None and verdict.rejected is not None:
            yield self._rejects.send(copy_reject(doc, verdict.rejected))
        elif verdict is None:
            counter(metrics.DEDUPE_UNIQUE).inc()
            yield doc
        elif verdict.duplicate_of is None:
            counter(metrics.DEDUPE_KEPT_WITH_COPIES).inc()
            yield dataclasses.replace(with_cluster_date(doc, verdict), duplicate_count=verdict.copies)
        else:
            counter(metrics.DUPLICATES_OF_KIND[verdict.kind]).inc()
            yield beam.pvalue.TaggedOutput("duplicates", (with_cluster_date(doc, verdict), verdict))


def _same_bytes_group(pair: tuple[int, int], candidates: dict[int, Candidate]) -> list[Candidate]:
    """An earlier article and this run's file with its bytes: the earlier one stands for both."""
    return sorted((candidates[pair[0]], candidates[pair[1]]), key=kept_order)


class Deduplicate(beam.PTransform):
    """Documents (with their raw page) -> `.articles` (kept Documents), `.duplicates` ((Document,
    Verdict) pairs), both without the raw page, and `.rejects` (RejectRows): the copies of a page that
    `rejected` (the RejectRows of the stages before dedupe) holds for another copy.

    Only small values cross the shuffles: candidates once (page groups), then 64-bit ids in the LSH
    buckets; the few documents that land in a candidate pair are looked up in a side input.
    """

    def __init__(self, index: IndexReader | None = None, forgotten: frozenset[str] = frozenset(), rejected=None):
        super().__init__()
        self._rejected = rejected  # a PCollection of RejectRows, or None
        self._index = index  # the index of earlier runs' articles (None: this run only)
        # Earlier articles this run replaces (--reprocess): a document is no copy of its own older version.
        self._forgotten = forgotten

    def expand(self, documents):
        page_groups = (
            documents
            | "Candidates" >> beam.Map(page_candidate)
            | "ByPage" >> beam.Map(lambda c: (c.page, c))
            | "GroupPages" >> beam.GroupByKey()
        )
        rejected_pages = beam.pvalue.AsDict(
            (self._rejected if self._rejected is not None else documents.pipeline | "NoRejects" >> beam.Create([]))
            | "RejectedPages" >> beam.FlatMap(lambda reject: [(reject.page, reject)] if reject.page else [])
            | "FirstRejectOfPage" >> beam.CombinePerKey(first_reject)
        )
        page_groups = page_groups | "PageGroups" >> beam.FlatMap(
            lambda item, rejected: page_group_or_rejected(*item, rejected), rejected_pages
        ).with_outputs(REJECTED_COPIES, main="groups")
        rejected_copies, page_groups = page_groups[REJECTED_COPIES], page_groups.groups
        # One representative per page goes on to near-duplicate search; equal texts of different pages
        # meet there (they collide in every band and verify at 1.0).
        representatives = page_groups | "Representatives" >> beam.Map(lambda group: (short_id(group[0].key), group[0]))
        candidate_pairs = (
            representatives
            | "BandKeys" >> beam.FlatMapTuple(_in_its_buckets)
            | "GroupBuckets" >> beam.GroupByKey()
            | "BucketPairs" >> beam.FlatMapTuple(lambda _, members: bucket_pairs(members))
        )
        earlier_candidates, same_bytes = [], []
        if self._index:
            earlier_pairs, same_bytes_pairs, earlier = (
                representatives | "Earlier" >> _EarlierPairs(self._index, self._forgotten)
            )
            candidate_pairs = (candidate_pairs, earlier_pairs) | "WithEarlierPairs" >> beam.Flatten()
            earlier_candidates, same_bytes = [earlier], [same_bytes_pairs]
        candidate_pairs = candidate_pairs | "DistinctPairs" >> beam.Distinct()
        involved = (
            (candidate_pairs, *same_bytes)
            | "AllPairs" >> beam.Flatten()
            | "PairMembers" >> beam.FlatMap(lambda pair: [(sid, None) for sid in pair])
            | "DistinctMembers" >> beam.Distinct()
        )
        paired_candidates = beam.pvalue.AsDict((
            representatives | "InPairs" >> beam.Filter(
                lambda item, wanted: item[0] in wanted, wanted=beam.pvalue.AsDict(involved)
            ),
            *earlier_candidates,
        ) | "PairedCandidates" >> beam.Flatten())
        pairs = candidate_pairs | "VerifyPairs" >> beam.FlatMap(verified_pairs, candidates=paired_candidates)
        exact_groups = [page_groups | "MultiCopyPages" >> beam.Filter(lambda g: len(g) > 1)]
        if same_bytes:  # an earlier file with the same bytes: one exact group, whatever the texts
            exact_groups.append(same_bytes[0] | "SameBytesGroups" >> beam.Map(_same_bytes_group, paired_candidates))
        # Clusters are few (copies are a few percent of a dump): resolve them all in one place.
        clustered = (
            (
                *(groups | f"TagGroups{i}" >> beam.Map(lambda g: ("clusters", ("group", g)))
                  for i, groups in enumerate(exact_groups)),
                pairs | "TagPairs" >> beam.Map(lambda p: ("clusters", ("pair", p))),
            )
            | "AllEvidence" >> beam.Flatten()
            | "Gather" >> beam.GroupByKey()
            | "Resolve" >> beam.FlatMapTuple(_resolve_items)
        )
        clustered = (clustered, rejected_copies) | "AllVerdicts" >> beam.Flatten()
        # Dedupe is the raw page's last reader (the page key, the frame): the documents wait for the
        # verdicts without it.
        split = documents | "ReleaseRawPage" >> beam.Map(Document.release, "raw") | "Split" >> beam.ParDo(
            _SplitFn(), verdicts=beam.pvalue.AsDict(clustered)
        ).with_outputs("duplicates", REJECTS, main="articles")
        return split


def _resolve_items(_, evidence) -> Iterable[tuple[str, Verdict]]:
    evidence = list(evidence)
    groups = [item for kind, item in evidence if kind == "group"]
    pairs = [item for kind, item in evidence if kind == "pair"]
    return resolve_clusters(groups, pairs).items()
