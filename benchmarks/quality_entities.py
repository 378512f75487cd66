"""Quality and speed of the entities stage, against the bare spaCy model, on the shared gold data.

    .venv/bin/python benchmarks/quality_entities.py [--corpus ../shared/corpus] [--repeats 3]

1. CoNLL-2003 (dev/conll): per-document sets of (surface, type), micro P/R/F1, labels mapped to the
   CoNLL types; words/s of each system measured in the same run (CPU time, best of --repeats interleaved rounds).
   Systems: the full en_core_web_sm pipeline (bare), the NER-only pipeline `load_model` returns, and
   `annotate` (that pipeline plus canonicalisation), with and without fuzzy place matching.
2. Seeds (seeds/ + seeds.gold.json `entity_aliases`): every alias group present must resolve to one
   canonical name, and every alias present in a file must be found as an entity.
3. Transliteration probe: place spellings absent from the alias table (written here), resolved by
   exact key / skeleton / fuzzy matching: what fuzzy matching adds.

Prints a message and exits 0 when the corpus is absent.
"""

from __future__ import annotations

import argparse
import collections
import json
import re
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import spacy

from transforms.document import Document
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
    args = parser.parse_args(argv)
    if not (args.corpus / "dev" / "conll").is_dir():
        print(f"{args.corpus} not found: no gold data here, nothing measured.")
        return 0
    report_conll(args.corpus, args.repeats)
    report_seeds(args.corpus)
    report_probe()
    return 0


if __name__ == "__main__":
    sys.exit(main())
