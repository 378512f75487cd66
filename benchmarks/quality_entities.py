"""Quality and speed of the entities stage, against the bare spaCy model, on the shared gold data.

    .venv/bin/python benchmarks/quality_entities.py [--corpus ../shared/corpus] [--repeats 3]
        [--examples N] [--pipeline-only]

1. The whole pipeline (`run_ingest`, as `newsflow ingest`) on dev/conll and dev/conll-train, each into
   a fresh output; the `articles`, `entities`, `duplicates` and `rejects` tables read back. Per gold
   document, the set of (surface, CoNLL type) of its `entities` rows (a duplicate gets its kept
   article's, a reject none), micro P/R/F1 against gold, beside the bare model (the full
   en_core_web_sm pipeline) and the entities stage (`annotate`) on the raw file text in the same run.
   Every figure on the tune and the check half (`benchmarks/corpora.py`; each document is its own
   site) with their difference. Then what the clean stage loses: the share of gold mentions whose
   surface is not in the article's title + text or whose document was rejected (rejects by reason);
   every missed gold pair by why (cleaned away, rejected, found with another type, inside a longer or
   shorter span, not found); the raw lines the clean stage dropped by kind (dateline, headline, table
   row...) and step (page cleaner alone, a later step, a rejected document), with the gold mentions
   lost on them; examples from the tune half only (--examples N of each kind).
2. CoNLL-2003 (dev/conll) in process: per-document sets of (surface, type), micro P/R/F1, labels mapped
   to the CoNLL types; words/s of each system measured in the same run (CPU time, best of --repeats
   interleaved rounds). Systems: the full en_core_web_sm pipeline (bare), the NER-only pipeline
   `load_model` returns, and `annotate` (that pipeline plus canonicalisation), with and without fuzzy
   place matching.
3. Seeds (seeds/ + seeds.gold.json `entity_aliases`): every alias group present must resolve to one
   canonical name, and every alias present in a file must be found as an entity.
4. Transliteration probe: place spellings absent from the alias table (written here), resolved by
   exact key / skeleton / fuzzy matching: what fuzzy matching adds.

Prints a message and exits 0 when the corpus is absent.
"""

from __future__ import annotations

import argparse
import collections
import dataclasses
import json
import re
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from pipelines.logs import mute_beam_noise

mute_beam_noise()  # before Beam is imported

import corpora  # benchmarks/ is put on the path above
import spacy

from pipelines.ingest import new_run, run_ingest
from pipelines.options import IngestConfig
from schemas.records import Document
from schemas.rows import entity_rows
from schemas.tables import ARTICLES, DUPLICATES, ENTITIES, REJECTS
from storage.visible import open_table
from transforms.clean import clean_text_page
from transforms.entities import (
    DEFAULT_BATCH_SIZE,
    DEFAULT_MODEL,
    AliasTable,
    annotate,
    load_model,
    name_key,
    skeleton,
)

DEFAULT_CORPUS = ROOT.parent / "shared" / "corpus"
CONLL_TYPES = {
    "PERSON": "PERSON",
    "ORG": "ORG",
    **dict.fromkeys(("GPE", "LOC", "FAC"), "LOC"),
    **dict.fromkeys(("NORP", "EVENT", "PRODUCT", "WORK_OF_ART", "LAW", "LANGUAGE"), "MISC"),
}
HONORIFIC_PREFIXES = ("Mr. ", "Mrs. ", "Ms. ", "Dr. ")  # entity spans leave them out, as OntoNotes does

# Spellings of table places that the table does not list (our own list, from common transliterations).
PROBE_VARIANTS = {
    "Deir ez-Zor": ["Deir Ez-Zour", "Dair al-Zur", "Deir Al Zour", "Dayr al-Zawr", "Deir Azzor"],
    "Abu Kamal": ["Abou Kamal", "Al Boukamal", "Albukamal", "Abou Kemal"],
    "Al-Qaim": ["Al-Qa'em", "Al Qaem", "Qa'em"],
    "Raqqa": ["Ar-Raqqa", "Al-Raqqah", "Rakkah", "Raqqeh"],
    "Mayadin": ["Al Mayadeen", "Meyadin", "Mayadin city"],
    "Idlib": ["Edleb", "Idlibb"],
    "Latakia": ["Lathakia", "Latakieh"],
    "Al-Hasakah": ["Al-Hasakeh", "Hassake", "El Hasakah"],
    "Qamishli": ["Qamishly", "Kamishly", "Qameshli"],
    "Manbij": ["Menbej", "Minbij"],
    "Kobani": ["Kobanî", "Kobanê"],
    "Tabqa": ["Tabka", "Al-Tabaqa"],
    "Fallujah": ["Falloujah", "Fallouja"],
    "Tal Afar": ["Tal Afer", "Tel Afer", "Telafar"],
}
# Real places the fuzzy matcher must leave alone (near-spellings of table places, or common CoNLL names).
PROBE_DISTINCT = [
    "Osaka",
    "Daraya",
    "Hama",
    "Homs",
    "Aleppo",
    "Kirkuk",
    "Tikrit",
    "Raqqa Road",
    "Kobe",
    "Manila",
]


# ---------------------------------------------------------------------------------------------- CoNLL


def load_conll(corpus: Path) -> tuple[list[str], list[set[tuple[str, str]]]]:
    folder = corpus / "dev" / "conll"
    gold = json.loads((folder / "gold.json").read_text(encoding="utf-8"))
    names = sorted(gold)
    texts = [(folder / name).read_text(encoding="utf-8") for name in names]
    return texts, [{tuple(pair) for pair in gold[name]["entities"]} for name in names]


def as_documents(texts: list[str]) -> list[Document]:
    return [
        Document(
            doc_id=str(i),
            source_uri=f"conll:{i}",
            content_type="text",
            encoding="utf-8",
            text=t,
            language="en",
        )
        for i, t in enumerate(texts)
    ]


def bare_predictions(nlp, texts: list[str]) -> list[set[tuple[str, str]]]:
    return [
        {(e.text, CONLL_TYPES[e.label_]) for e in doc.ents if e.label_ in CONLL_TYPES}
        for doc in nlp.pipe(texts, batch_size=DEFAULT_BATCH_SIZE)
    ]


def stage_predictions(nlp, texts: list[str], table: AliasTable) -> list[set[tuple[str, str]]]:
    docs = annotate(nlp, as_documents(texts), table=table)
    return [{(e.text, CONLL_TYPES[e.label]) for e in doc.entities if e.label in CONLL_TYPES} for doc in docs]


def timed(systems: dict, texts: list[str], repeats: int) -> tuple[dict, dict]:
    """Predictions and words/s of every system: best of `repeats` interleaved rounds, in CPU time of
    this process (other jobs on the machine then disturb the comparison less than wall time)."""
    for predict in systems.values():
        predict(texts[:10])  # warm-up: lazy tables, caches, first allocations
    words = sum(len(t.split()) for t in texts)
    best = dict.fromkeys(systems, float("inf"))
    predictions = {}
    for _ in range(repeats):
        for name, predict in systems.items():
            start = time.process_time()
            predictions[name] = predict(texts)
            best[name] = min(best[name], time.process_time() - start)
    return predictions, {name: words / seconds for name, seconds in best.items()}


def micro_prf(predicted, gold, types=None) -> tuple[float, float, float]:
    tp = fp = fn = 0
    for p, g in zip(predicted, gold):
        if types is not None:
            p = {x for x in p if x[1] in types}
            g = {x for x in g if x[1] in types}
        tp, fp, fn = tp + len(p & g), fp + len(p - g), fn + len(g - p)
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


def report_conll(corpus: Path, repeats: int) -> None:
    texts, gold = load_conll(corpus)
    words = sum(len(t.split()) for t in texts)
    print(f"CoNLL-2003 dev: {len(texts)} documents, {words} words; per-document (surface, type) sets")
    full = spacy.load(DEFAULT_MODEL)
    ner_only = load_model()
    with_fuzzy, without_fuzzy = AliasTable.from_json(), AliasTable.from_json(fuzzy=False)
    systems = {
        "bare: full sm pipeline": lambda ts: bare_predictions(full, ts),
        "bare: load_model() (ner only)": lambda ts: bare_predictions(ner_only, ts),
        "annotate() without fuzzy": lambda ts: stage_predictions(ner_only, ts, without_fuzzy),
        "annotate()": lambda ts: stage_predictions(ner_only, ts, with_fuzzy),
    }
    header = f"{'system':32} {'P':>6} {'R':>6} {'F1':>6}  " + "  ".join(
        f"{t:>6}" for t in ("PER", "ORG", "LOC", "MISC")
    )
    print(header + f"  {'words/s':>8}")
    predictions, speeds = timed(systems, texts, repeats)
    for name, predicted in predictions.items():
        p, r, f = micro_prf(predicted, gold)
        per_type = [micro_prf(predicted, gold, {t})[2] for t in ("PERSON", "ORG", "LOC", "MISC")]
        print(
            f"{name:32} {p:6.3f} {r:6.3f} {f:6.3f}  "
            + "  ".join(f"{x:6.3f}" for x in per_type)
            + f"  {speeds[name]:8.0f}"
        )
    base = speeds["bare: load_model() (ner only)"]
    print(f"annotate() time / load_model() nlp.pipe time: {base / speeds['annotate()']:.3f}x")
    print(
        f"annotate() time / full pipeline nlp.pipe time: {speeds['bare: full sm pipeline'] / speeds['annotate()']:.3f}x"
    )
    report_fuzzy_hits(ner_only, texts, with_fuzzy)


def report_fuzzy_hits(nlp, texts: list[str], table: AliasTable) -> None:
    """Mentions in CoNLL that only the skeleton or fuzzy match sent to a table name: false positives?"""
    hits = collections.Counter()
    for doc in annotate(nlp, as_documents(texts), table=table):
        for e in doc.entities:
            if (
                table.exact(name_key(e.text)) is None
                and e.canonical != e.text
                and table.lookup(name_key(e.text))
            ):
                hits[(e.text, e.canonical)] += 1
    print(f"CoNLL mentions resolved by skeleton/fuzzy only: {sum(hits.values())} {dict(hits) or ''}")


# ------------------------------------------------------------------------------------- whole pipeline

PIPELINE_CORPORA = ("conll", "conll-train")
# A dateline of the wire's layout: the place, then the day ("LONDON 1996-08-30", "YORK , England 1996-08-22").
_DATELINE = re.compile(r"^[A-Z]\D{0,60} \d{4}-\d{2}-\d{2}$")
_NUMBER = re.compile(r"^[-+(]?\d[\d.,:/-]*\)?$")
TABLE_NUMBER_SHARE = 0.3  # a line with this share of numeric tokens (and at least two) is a table row
SHORT_LINE_WORDS = 8  # fewer words: a list item, a sub-heading; more: a sentence
NAME_LINE_WORDS = 4  # a line of at most this many capitalised words: a byline, a name in a list
NAME_LIST_ITEMS = 4  # a line of this many comma-separated capitalised items or more: a squad, a list
_END_MARKS = frozenset(".!?:;\"')")


@dataclasses.dataclass
class Outcome:
    """One gold document through the pipeline, with the bare model's answer on its raw text."""

    page: corpora.Page
    raw: str
    gold: set[tuple[str, str]]
    bare: set[tuple[str, str]]
    lossless: set[tuple[str, str]]  # the entities stage on the raw text (`lossless_predictions`)
    predicted: set[tuple[str, str]]  # from the `entities` table: (surface, type) of every row
    mentioned: set[tuple[str, str]]  # from `articles.entities`: (text, type) of every mention
    title: str | None  # its article's (the kept copy's for a duplicate)
    text: str | None  # its article's; None when rejected
    reject: str | None  # the reject reason
    page_cleaned: str  # title and text of the page cleaner alone on the raw text (`clean_text_page`)
    duplicate: bool = False

    @property
    def kept(self) -> str | None:
        """What the pipeline kept of the document's words: title and text."""
        return None if self.text is None else "\n".join(part for part in (self.title, self.text) if part)


def run_pipeline(folder: Path, scratch: str) -> dict[str, dict]:
    """Ingest every .txt of `folder` into a fresh output; per file name what the tables say of it:
    title, text, entities (table rows and mentions), reject reason, whether it is a duplicate."""
    output = f"{scratch}/{folder.name}"
    summary = run_ingest(IngestConfig(inputs=(f"{folder}/*.txt",), output=output))
    articles = _rows(output, ARTICLES, ["doc_id", "source_uri", "title", "text", "entities"])
    by_doc_id = {row["doc_id"]: row for row in articles}
    entity_rows = collections.defaultdict(list)
    for row in _rows(output, ENTITIES, ["doc_id", "label", "surfaces"]):
        entity_rows[row["doc_id"]].append(row)
    results = {}
    for row in articles:
        results[_file_name(row["source_uri"])] = _article_result(row, entity_rows[row["doc_id"]])
    for row in _rows(output, DUPLICATES, ["source_uri", "duplicate_of"]):
        kept = by_doc_id[row["duplicate_of"]]
        results[_file_name(row["source_uri"])] = {**_article_result(kept, entity_rows[kept["doc_id"]]), "duplicate": True}
    for row in _rows(output, REJECTS, ["source_uri", "reason"]):
        results[_file_name(row["source_uri"])] = {"reject": row["reason"]}
    results["_summary"] = summary
    return results


def _rows(output: str, table: str, columns: list[str]) -> list[dict]:
    if not Path(output, table).exists():
        return []
    return open_table(output, table).to_table(columns=columns).to_pylist()


def _file_name(source_uri: str) -> str:
    return source_uri.rsplit("/", 1)[-1]


def _article_result(article: dict, rows: list[dict]) -> dict:
    return {
        "title": article["title"],
        "text": article["text"],
        "predicted": table_pairs(rows),
        "mentioned": {(e["text"], CONLL_TYPES[e["label"]]) for e in article["entities"] if e["label"] in CONLL_TYPES},
    }


def table_pairs(rows: list[dict]) -> set[tuple[str, str]]:
    """(surface, CoNLL type) of every spelling of every `entities` row of an article."""
    return {(s, CONLL_TYPES[row["label"]]) for row in rows for s in row["surfaces"] if row["label"] in CONLL_TYPES}


def lossless_predictions(nlp, texts: list[str]) -> list[set[tuple[str, str]]]:
    """The entities stage on every whole raw file as an article's text, scored on the rows the `entities`
    table would get: what the pipeline would find if cleaning dropped nothing."""
    run = new_run()
    return [table_pairs(entity_rows(doc, run)) for doc in annotate(nlp, as_documents(texts))]


def pipeline_outcomes(corpus: Path, name: str, models: tuple, scratch: str) -> tuple[list[Outcome], dict]:
    """Every gold document of the corpus through the pipeline, beside the bare model (`models[0]`) and
    the entities stage (`models[1]`) on its raw text."""
    folder = corpus / "dev" / name
    results = run_pipeline(folder, scratch)
    pages = corpora.pages(name, corpus)
    raws = [(folder / page.key).read_text(encoding="utf-8") for page in pages]
    bare, lossless = bare_predictions(models[0], raws), lossless_predictions(models[1], raws)
    outcomes = []
    for page, raw, bare_set, lossless_set in zip(pages, raws, bare, lossless):
        result = results.get(page.key, {"reject": "(no row in any table)"})
        outcomes.append(
            Outcome(
                page=page,
                raw=raw,
                gold={tuple(pair) for pair in page.gold["entities"]},
                bare=bare_set,
                lossless=lossless_set,
                predicted=result.get("predicted", set()),
                mentioned=result.get("mentioned", set()),
                title=result.get("title"),
                text=result.get("text"),
                reject=result.get("reject"),
                page_cleaned=_page_cleaned(raw),
                duplicate=result.get("duplicate", False),
            )
        )
    return outcomes, results["_summary"]


def _page_cleaned(raw: str) -> str:
    page = clean_text_page(raw)
    return "\n".join(part for part in (page.title, page.text) if part)


def occurs(text: str, surface: str) -> bool:
    """`surface` as whole words in `text` (spacing between its words may differ)."""
    words = [re.escape(word) for word in surface.split()]
    return re.search(r"(?<!\w)" + r"\s+".join(words) + r"(?!\w)", text) is not None


def miss_kind(surface: str, type_: str, outcome: Outcome) -> str:
    """Why the pipeline's answer lacks a gold (surface, type)."""
    if outcome.reject is not None:
        return f"document rejected ({outcome.reject})"
    if not occurs(outcome.kept, surface):
        return "cleaned away (surface not in title + text)"
    if (surface, type_) in outcome.mentioned:
        return "merged into a canonical row with another label"
    if any(s == surface for s, _ in outcome.predicted):
        return "found with another type"
    if any(_overlap(s, surface) for s, _ in outcome.predicted):
        return "found inside a longer or shorter span"
    if (surface, type_) in outcome.bare:
        return "not found (the bare model found it)"
    return "not found (the bare model missed it too)"


def false_positive_kind(surface: str, type_: str, outcome: Outcome) -> str:
    if any(s == surface for s, _ in outcome.gold):
        return "gold has it with another type"
    if any(_overlap(s, surface) for s, _ in outcome.gold):
        return "a longer or shorter span than gold's"
    return "not a gold entity"


def _overlap(a: str, b: str) -> bool:
    return occurs(a, b) or occurs(b, a)


def lost_to_cleaning(outcome: Outcome) -> list[tuple[str, str]]:
    """Gold (surface, type) pairs the pipeline could not find: rejected, or not in the article's words."""
    if outcome.reject is not None:
        return sorted(outcome.gold)
    return sorted(g for g in outcome.gold if not occurs(outcome.kept, g[0]))


def line_kind(lines: list[str], index: int) -> str:
    """What raw line `index` of a piece of wire copy is, in the words of a cleaner's failure list."""
    line = lines[index].strip()
    words = line.split()
    numbers = sum(bool(_NUMBER.match(word)) for word in words)
    following = next((other.strip() for other in lines[index + 1 :] if other.strip()), "")
    if index == 0:
        return "headline (first line)"
    if _DATELINE.match(line):
        return "dateline (CITY 1996-08-30)"
    if line.startswith("--"):
        return "sign-off (-- City Newsroom +44...)"
    if numbers >= 2 and numbers >= TABLE_NUMBER_SHARE * len(words):
        return "table or results row"
    if numbers >= 2:
        return "results in words (names, scores)"
    if _is_name_list(line):
        return "list of names (A , B , C)"
    if line[-1] not in _END_MARKS and following[:1].islower():
        return "hard-wrapped prose (goes on below)"
    if len(words) <= NAME_LINE_WORDS and all(word[0].isupper() for word in words) and numbers == 0:
        return "name line (byline, list item)"
    if len(words) < SHORT_LINE_WORDS:
        return f"short line (< {SHORT_LINE_WORDS} words)"
    return "sentence line"


def _is_name_list(line: str) -> bool:
    items = [item.split() for item in line.rstrip(" .").split(",")]
    return len(items) >= NAME_LIST_ITEMS and all(item and item[0][0].isupper() for item in items)


def dropped_lines(raw: str, kept: str | None) -> list[tuple[int, str]]:
    """(index, line) of the raw lines whose words are not in `kept` (all of them when it is None)."""
    lines = [(i, line) for i, line in enumerate(raw.split("\n")) if line.strip()]
    if kept is None:
        return lines
    kept = " ".join(kept.split())
    return [(i, line) for i, line in lines if " ".join(line.split()) not in kept]


def where_dropped(outcome: Outcome) -> dict[int, str]:
    """Raw line index -> which step of the clean stage dropped it: the document was rejected, the page
    cleaner alone drops it (`clean_text_page`), or a later step (templates learned across the dump)."""
    if outcome.reject is not None:
        return {i: "rejected" for i, _ in dropped_lines(outcome.raw, None)}
    by_page_cleaner = {i for i, _ in dropped_lines(outcome.raw, outcome.page_cleaned)}
    return {i: "page cleaner" if i in by_page_cleaner else "later step" for i, _ in dropped_lines(outcome.raw, outcome.kept)}


def mention_line(outcome: Outcome, surface: str) -> tuple[int, str]:
    """The first raw line that names `surface` (a gold surface is always on one line)."""
    lines = outcome.raw.split("\n")
    return next(((i, line) for i, line in enumerate(lines) if occurs(line, surface)), (-1, ""))


# ------------------------------------------------------------------------------------ pipeline report


def report_pipeline(corpus: Path, examples: int) -> None:
    """Entities through the whole pipeline against the bare model on the raw text, per corpus and half."""
    models = spacy.load(DEFAULT_MODEL), load_model()
    with tempfile.TemporaryDirectory() as scratch:
        for name in PIPELINE_CORPORA:
            if not (corpus / "dev" / name).is_dir():
                continue
            started = time.monotonic()
            outcomes, summary = pipeline_outcomes(corpus, name, models, scratch)
            print(
                f"\n{name} through the pipeline: {len(outcomes)} documents, {summary['articles']} articles, "
                f"{summary['duplicates']} duplicates, {summary['rejects']} rejects ({time.monotonic() - started:.0f} s)"
            )
            split = {"tune": [o for o in outcomes if not o.page.check], "check": [o for o in outcomes if o.page.check]}
            report_scores(split)
            report_losses(split)
            report_misses(split)
            report_cleaner_losses(split, examples)
            report_stage_examples(split["tune"], examples)


def _halves_line(label: str, values: dict[str, float], fmt: str = "{:.3f}") -> str:
    tune, check = values["tune"], values["check"]
    return f"  {label:58} tune {fmt.format(tune):>7}  check {fmt.format(check):>7}  ({corpora.difference(tune, check)})"


SCORED_SYSTEMS = {
    "pipeline (entities table)": lambda o: o.predicted,
    "bare model, raw text": lambda o: o.bare,
    "entities stage, raw text": lambda o: o.lossless,  # what the pipeline would find with lossless cleaning
}
CONLL_TYPE_NAMES = ("PERSON", "ORG", "LOC", "MISC")


def report_scores(split: dict[str, list[Outcome]]) -> None:
    """P/R/F1 and F1 per type of every system, on both halves; the gaps to the bare model."""
    print(f"  {'':28}{'tune: P':>9} {'R':>6} {'F1':>6} {'check: P':>9} {'R':>6} {'F1':>6}   "
          + " ".join(f"{t:>6}" for t in CONLL_TYPE_NAMES) + "  (F1 per type, tune / check)")
    f1 = {}
    for system, answer in SCORED_SYSTEMS.items():
        scores = {h: micro_prf([answer(o) for o in os], [o.gold for o in os]) for h, os in split.items()}
        f1[system] = {h: score[2] for h, score in scores.items()}
        per_type = [
            "/".join(f"{micro_prf([answer(o) for o in os], [o.gold for o in os], {t})[2]:.2f}" for os in split.values())
            for t in CONLL_TYPE_NAMES
        ]
        print(f"  {system:28}" + "".join(f"{x:9.3f}" if i % 3 == 0 else f"{x:7.3f}"
                                          for i, x in enumerate([*scores["tune"], *scores["check"]]))
              + "   " + " ".join(per_type))
    bare = f1["bare model, raw text"]
    for system in ("pipeline (entities table)", "entities stage, raw text"):
        gap = {h: f1[system][h] - bare[h] for h in split}
        print(_halves_line(f"F1 gap: {system} - bare (target >= +0.08)", gap, "{:+.3f}"))


def report_losses(split: dict[str, list[Outcome]]) -> None:
    gold = {h: sum(len(o.gold) for o in os) for h, os in split.items()}
    lost = {h: sum(len(lost_to_cleaning(o)) for o in os) for h, os in split.items()}
    print(_halves_line("recall lost to cleaning (target < 0.030)", {h: lost[h] / gold[h] for h in split}))
    print(f"    gold mentions: tune {gold['tune']}, check {gold['check']}; lost: tune {lost['tune']}, check {lost['check']}")
    for half, outcomes in split.items():
        reasons = collections.Counter(o.reject for o in outcomes if o.reject is not None)
        mentions = collections.Counter()
        for o in outcomes:
            if o.reject is not None:
                mentions[o.reject] += len(o.gold)
        listed = ", ".join(f"{n} '{reason}' ({mentions[reason]} gold mentions)" for reason, n in reasons.most_common())
        duplicates = sum(o.duplicate for o in outcomes)
        print(f"    {half}: rejects {sum(reasons.values())}{': ' + listed if listed else ''}; duplicates {duplicates}")


def report_misses(split: dict[str, list[Outcome]]) -> None:
    """Every gold pair the pipeline missed, by why; every false positive, by what it is."""
    misses = {h: collections.Counter() for h in split}
    false = {h: collections.Counter() for h in split}
    for half, outcomes in split.items():
        for o in outcomes:
            misses[half].update(miss_kind(s, t, o) for s, t in o.gold - o.predicted)
            false[half].update(false_positive_kind(s, t, o) for s, t in o.predicted - o.gold)
    for title, counts in (("missed gold pairs, by why", misses), ("false positives, by kind", false)):
        print(f"  {title}:" + f"{'tune':>37} {'check':>7}")
        for kind in sorted({k for c in counts.values() for k in c}, key=lambda k: -counts["tune"][k]):
            print(f"    {kind:60} {counts['tune'][kind]:7} {counts['check'][kind]:7}")


DROP_STEPS = ("page cleaner", "later step", "rejected")


def report_cleaner_losses(split: dict[str, list[Outcome]], examples: int) -> None:
    """Raw lines the clean stage dropped, by kind and step, and the gold mentions lost with them."""
    lines, dropped, lost = (collections.defaultdict(collections.Counter) for _ in range(3))
    shown = collections.defaultdict(list)
    for half, outcomes in split.items():
        for o in outcomes:
            raw_lines = o.raw.split("\n")
            lines[half].update(line_kind(raw_lines, i) for i, line in enumerate(raw_lines) if line.strip())
            steps = where_dropped(o)
            dropped[half].update((line_kind(raw_lines, i), step) for i, step in steps.items())
            for surface, _ in lost_to_cleaning(o):
                index, line = mention_line(o, surface)
                kind = line_kind(raw_lines, index) if index >= 0 else "(surface not in the raw text)"
                lost[half][kind] += 1
                if half == "tune" and len(shown[kind]) < examples:
                    shown[kind].append(f"[{steps.get(index)}] {o.page.key}: {line.strip()[:90]!r} ({surface})")
    print("  raw lines by kind, tune / check: in the corpus; dropped by the page cleaner, by a later step of the")
    print("  clean stage (templates), with a rejected document; gold mentions lost")
    for kind in sorted(lines["tune"] | lines["check"] | lost["tune"] | lost["check"]):
        counts = [lines[h][kind] for h in split] + [dropped[h][(kind, step)] for step in DROP_STEPS for h in split]
        counts += [lost[h][kind] for h in split]
        print(f"    {kind:38}" + "  ".join(f"{counts[i]:5}/{counts[i + 1]:<5}" for i in range(0, len(counts), 2)))
        for example in shown[kind]:
            print(f"        e.g. {example}")


def report_stage_examples(tune: list[Outcome], examples: int) -> None:
    """Tune-half misses the entities stage itself causes (the words were kept), to read and fix."""
    if not examples:
        return
    by_kind = collections.defaultdict(list)
    for o in tune:
        for surface, type_ in sorted(o.gold - o.predicted):
            kind = miss_kind(surface, type_, o)
            if kind.startswith(("document rejected", "cleaned away")):
                continue
            found = sorted(p for p in o.predicted if _overlap(p[0], surface))
            by_kind[kind].append(f"{o.page.key}: {surface} {type_}; pipeline {found}")
    print("  tune-half misses of the entities stage, examples:")
    for kind, items in sorted(by_kind.items()):
        print(f"    {kind} ({len(items)}):")
        for item in items[:examples]:
            print(f"      {item}")


# ---------------------------------------------------------------------------------------------- seeds


def report_seeds(corpus: Path) -> bool:
    gold = json.loads((corpus / "seeds.gold.json").read_text(encoding="utf-8"))["entity_aliases"]
    paths = sorted((corpus / "seeds").glob("*.txt"))
    docs = [
        Document(
            doc_id=p.name,
            source_uri=str(p),
            content_type="text",
            encoding="utf-8",
            text=p.read_text(encoding="utf-8"),
        )
        for p in paths
    ]
    annotated = annotate(load_model(), docs)
    offsets_ok = all(d.text[e.start : e.end] == e.text for d in annotated for e in d.entities if e.start >= 0)
    print(f"\nSeeds: {len(docs)} raw files as body text; offsets valid: {offsets_ok}")
    all_ok = offsets_ok
    for group, aliases in gold.items():
        canonicals, missing = set(), []
        for alias in aliases:
            found = _alias_entities(annotated, alias)
            in_text = any(_occurs(d.text, alias) for d in annotated)
            if in_text and not found:
                missing.append(alias)
            canonicals |= {(e.canonical, e.label) for e in found}
        ok = len(canonicals) == 1 and not missing
        all_ok &= ok
        print(
            f"  {'ok  ' if ok else 'FAIL'} {group:45} -> {sorted(canonicals)}"
            + (f" missing {missing}" if missing else "")
        )
    return all_ok


def _alias_entities(docs: list[Document], alias: str):
    """Entities whose text is the alias, or the alias without its honorific (preceded by it in the text)."""
    bare = next((alias[len(h) :] for h in HONORIFIC_PREFIXES if alias.startswith(h)), None)
    found = []
    for d in docs:
        for e in d.entities:
            if e.text == alias or (
                bare and e.text == bare and d.text[max(0, e.start - len(alias) + len(bare)) : e.end] == alias
            ):
                found.append(e)
    return found


def _occurs(text: str, alias: str) -> bool:
    return re.search(r"(?<!\w)" + re.escape(alias) + r"(?!\w)", text) is not None


# ------------------------------------------------------------------------------------------ transliteration


def report_probe() -> None:
    exact_table, skeleton_table, fuzzy_table = (
        AliasTable.from_json(),
        AliasTable.from_json(fuzzy=False),
        AliasTable.from_json(),
    )
    counts = collections.Counter()
    unresolved = []
    for canonical, variants in PROBE_VARIANTS.items():
        for variant in variants:
            key = name_key(variant)
            exact = exact_table.exact(key)
            skel = skeleton_table.lookup(key)
            fuzz = fuzzy_table.lookup(key)
            kind = "exact" if exact else "skeleton" if skel else "fuzzy" if fuzz else "none"
            right = (exact or skel or fuzz) is not None and (exact or skel or fuzz).canonical == canonical
            counts[kind if right else ("wrong" if kind != "none" else "none")] += 1
            if not right:
                unresolved.append(f"{variant} ({skeleton(key)})")
    total = sum(counts.values())
    print(f"\nTransliteration probe: {total} unseen spellings of table places")
    print(
        f"  exact key {counts['exact']}, +skeleton {counts['skeleton']}, +fuzzy {counts['fuzzy']}, wrong {counts['wrong']}, unresolved {counts['none']}"
    )
    if unresolved:
        print(f"  not resolved: {', '.join(unresolved)}")
    false = [n for n in PROBE_DISTINCT if fuzzy_table.lookup(name_key(n))]
    print(f"  distinct places wrongly matched: {false or 'none'}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--examples", type=int, default=3, help="tune-half examples of every kind of miss")
    parser.add_argument("--pipeline-only", action="store_true", help="only the whole-pipeline section")
    args = parser.parse_args(argv)
    args.corpus = args.corpus.resolve()
    if not (args.corpus / "dev" / "conll").is_dir():
        print(f"{args.corpus} not found: no gold data here, nothing measured.")
        return 0
    report_pipeline(args.corpus, args.examples)
    if args.pipeline_only:
        return 0
    report_conll(args.corpus, args.repeats)
    report_seeds(args.corpus)
    report_probe()
    return 0


if __name__ == "__main__":
    sys.exit(main())
