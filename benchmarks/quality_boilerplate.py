"""Quality and speed of the clean stage (boilerplate removal) on the shared gold corpora.

    .venv/bin/python benchmarks/quality_boilerplate.py [--corpus ../shared/corpus] [--worst N] [--quick]

Every corpus goes through the pipeline's own clean stage (`pipelines.ingest.CleanDump`: read, clean each
page, learn the templates across the dump, remove them) on the local runner, as a run would; the time
per page is measured separately, in process, on the page cleaner alone.

Reports:
- seeds: title equal to gold, body's first line / last line, boilerplate examples gone, title not
  repeated at the top of the body, known subheadings kept (x/5 each);
- dev/aeb-text (text input) and dev/aeb-html (HTML input, gold from aeb-text/gold.json with .txt->.html):
  the Zyte article-extraction metric (4-gram shingles over `\\w+` tokens of the lower-cased text; per-page
  precision and recall, macro-averaged over pages, a page without prediction counting for recall only;
  F1 of the two averages), beside the keep-everything floor (the whole text dump as the answer), and
  the time per page. aeb has no gold title: as a proxy, how often the title found in the text dump
  agrees with the one trafilatura reads in the HTML page's metadata;
- dev/reuters: title equal to gold, share of the story's words kept (title line and sign-off excluded),
  sign-off and control characters gone, bodies lost;
- dev/dedup and dev/dates-text: pages left without an article body (the stage rejects them); dedup also
  gets the metric against its `body_span` (headline and byline included there, so precision is a floor).

Timing excludes one-off loads (language model, trafilatura) by warming up first; the first page of a
new language still pays for reading its stoplist (a few ms, once per worker).
Exits 0 with a message when the corpus is absent.
"""
from __future__ import annotations

import argparse
import glob
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pipelines.logs import mute_beam_noise

mute_beam_noise()  # before Beam is imported

import apache_beam as beam

from pipelines.ingest import CleanDump, run_ingest
from pipelines.options import IngestConfig, runner_and_options
from transforms.clean import CleanedPage, clean_html_page, clean_text_page, has_article
from transforms.read import ReadDump

DEFAULT_CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus"
SHINGLE = 4  # words per shingle, as in the Zyte benchmark
REUTERS_MIN_KEPT = 0.98  # a wire story "comes out whole" when this share of its words survives
# Subheadings the seeds' bodies must keep (read off the seed pages; short lines between paragraphs).
SEED_SUBHEADINGS = {
    "000_e0e05638a1622661.txt": ["‘Final battle’"],
    "003_db18584a31786581.txt": ["Iraqi forces take Al-Qaim"],
    "004_9cd13ebd3ff0fa9d.txt": ["– IS squeezed in Iraq –"],
}
_TOKEN = re.compile(r"\w+")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_SIGNOFF = re.compile(r"\s(?:REUTERS?|Reuters?)\W*$")  # to count a story's words without its sign-off
_SIGNOFF_LINE = re.compile(r"^\s*(?:reuters?\b.*|more)\s*$", re.IGNORECASE)
_SIGNOFF_LEFT = re.compile(r"(?:^|\s)(?:REUTERS?|Reuter)\s*$")  # " Reuter" closing the cleaned text


# ---------------------------------------------------------------------------------------------
# The Zyte article-extraction metric
# ---------------------------------------------------------------------------------------------


def shingles(text: str) -> Counter:
    tokens = _TOKEN.findall(text.lower())
    return Counter(tuple(tokens[i : i + SHINGLE]) for i in range(max(1, len(tokens) - SHINGLE + 1)) if tokens)


def tp_fp_fn(gold: str, predicted: str) -> tuple[float, float, float]:
    truth, guess = shingles(gold), shingles(predicted)
    return (
        float(sum((truth & guess).values())),
        float(sum((guess - truth).values())),
        float(sum((truth - guess).values())),
    )


def page_precision(tp: float, fp: float, fn: float) -> float:
    if fp == fn == 0:
        return 1.0
    return tp / (tp + fp) if tp + fp else 0.0


def page_recall(tp: float, fp: float, fn: float) -> float:
    if fp == fn == 0:
        return 1.0
    return tp / (tp + fn) if tp + fn else 0.0


def macro_scores(counts: list[tuple[float, float, float]]) -> tuple[float, float, float]:
    """(precision, recall, F1): per-page scores averaged over pages, F1 of the two averages.

    A page with no predicted shingle has no precision (it is left out of that average) and zero recall,
    exactly as in the benchmark's evaluate.py.
    """
    precision = statistics.mean([page_precision(*c) for c in counts if c[0] + c[1] > 0] or [0.0])
    recall = statistics.mean([page_recall(*c) for c in counts if c[0] + c[2] > 0] or [0.0])
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


# ---------------------------------------------------------------------------------------------
# Running the stage
# ---------------------------------------------------------------------------------------------


def read_text(path: Path) -> str:
    return path.read_text(encoding="utf-8", errors="replace")


def timed(clean: Callable[[str], CleanedPage], raw: str) -> tuple[CleanedPage, float]:
    start = time.perf_counter()
    page = clean(raw)
    return page, time.perf_counter() - start


def warm_up() -> None:
    """Load the language model, the English stoplist and trafilatura once, before any page is timed."""
    sentence = "The stage loads its language model once, on the first page it sees. " * 5
    clean_text_page(f"Warm-up headline\n\n{sentence}")
    clean_html_page(f"<html><body><article><h1>Warm-up</h1><p>{sentence}</p></article></body></html>")


def describe_times(seconds: list[float]) -> str:
    ordered = sorted(seconds)
    p99 = ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))]
    mean = 1000 * statistics.mean(seconds)
    return f"{mean:.2f} ms/page mean, {1000 * p99:.2f} ms p99, {1000 * ordered[-1]:.1f} max"


def words_key(text: str | None) -> str:
    return "".join(_TOKEN.findall((text or "").lower()))


def _page_record(doc) -> str:
    return json.dumps({"uri": doc.source_uri, "title": doc.title, "text": doc.text})


def clean_through_pipeline(patterns: list[str]) -> dict[str, CleanedPage]:
    """Every page the patterns name -> what the pipeline's clean stage made of it (a rejected page gets
    an empty body), keyed by its path. Template statistics go to a temporary output."""
    with tempfile.TemporaryDirectory() as scratch:
        runner, options = runner_and_options([])
        with beam.Pipeline(runner=runner, options=options) as pipeline:
            read = pipeline | "Read" >> ReadDump(patterns)
            cleaned = read.documents | "Clean" >> CleanDump(f"{scratch}/out", f"{scratch}/staging", "benchmark")
            _ = (
                cleaned.documents
                | "Records" >> beam.Map(_page_record)
                | "Write" >> beam.io.WriteToText(f"{scratch}/pages", file_name_suffix=".jsonl")
            )
        pages = {}
        for path in Path(scratch).glob("pages*.jsonl"):
            for line in path.read_text().splitlines():
                record = json.loads(line)
                pages[record["uri"].removeprefix("file://")] = CleanedPage(record["title"], record["text"], None, [])
    return {
        str(path): pages.get(str(path), CleanedPage(None, "", None, []))
        for pattern in patterns
        for path in sorted(glob.glob(pattern))
    }


# ---------------------------------------------------------------------------------------------
# Corpora
# ---------------------------------------------------------------------------------------------

SEED_CHECKS = ("title", "first line", "last line", "no boilerplate", "title not in text", "subheadings")


def report_seeds(corpus: Path) -> None:
    gold = json.loads((corpus / "seeds.gold.json").read_text())["documents"]
    passed = Counter()
    pages = clean_through_pipeline([f"{corpus}/seeds/*.txt"])
    for name, expected in sorted(gold.items()):
        page = pages[str(corpus / "seeds" / name)]
        lines = page.text.split("\n") if page.text else [""]
        results = {
            "title": page.title == expected["title"],
            "first line": lines[0].startswith(expected["body_first_line_starts"]),
            "last line": lines[-1].endswith(expected["body_last_line_ends"]),
            "no boilerplate": not [b for b in expected["boilerplate_examples"] if b in page.text],
            "title not in text": not (page.title and page.text.startswith(page.title)),
            "subheadings": all(heading in lines for heading in SEED_SUBHEADINGS.get(name, [])),
        }
        passed.update(check for check, ok in results.items() if ok)
        failed = [check for check, ok in results.items() if not ok]
        print(f"  {name}: {'ok' if not failed else 'FAILED ' + ', '.join(failed)}")
        if failed:
            print(f"    title={page.title!r}\n    first={lines[0][:80]!r}\n    last={lines[-1][-80:]!r}")
    print("  " + "  ".join(f"{check} {passed[check]}/{len(gold)}" for check in SEED_CHECKS))


def report_aeb(corpus: Path, kind: str, worst: int) -> dict[str, CleanedPage]:
    """Prints the metric for one input kind; returns the cleaned pages by gold key."""
    gold = json.loads((corpus / "dev" / "aeb-text" / "gold.json").read_text())
    clean = clean_text_page if kind == "text" else clean_html_page
    folder = corpus / "dev" / f"aeb-{kind}"
    cleaned = clean_through_pipeline([f"{folder}/*/*.{'txt' if kind == 'text' else 'html'}"])
    counts, floor, seconds, rows, pages = [], [], [], [], {}
    for key, expected in sorted(gold.items()):
        text_path = corpus / "dev" / "aeb-text" / key
        path = text_path if kind == "text" else folder / key.replace(".txt", ".html")
        _, elapsed = timed(clean, read_text(path))  # the page cleaner alone, in process
        page = pages[key] = cleaned[str(path)]
        counts.append(tp_fp_fn(expected["body"], page.text))
        floor.append(tp_fp_fn(expected["body"], read_text(text_path)))
        seconds.append(elapsed)
        rows.append((key, counts[-1]))
    p, r, f = macro_scores(counts)
    fp_, fr, ff = macro_scores(floor)
    print(
        f"  {len(counts)} pages   precision {p:.3f}  recall {r:.3f}  F1 {f:.3f}"
        f"   (keep-everything: P {fp_:.3f} R {fr:.3f} F1 {ff:.3f})"
    )
    print(f"  time: {describe_times(seconds)}")
    if worst:
        rows.sort(key=lambda row: min(page_precision(*row[1]), page_recall(*row[1])))
        for key, c in rows[:worst]:
            print(f"    {key:<45} P {page_precision(*c):.2f} R {page_recall(*c):.2f}")
    return pages


def report_title_agreement(text_pages: dict[str, CleanedPage], html_pages: dict[str, CleanedPage]) -> None:
    """aeb has no gold title: count text-dump titles that agree with the HTML metadata title (one
    containing the other, by words). Disagreements include legitimate ones (an SEO title, a site name)."""
    agree = 0
    for key, page in text_pages.items():
        ours, theirs = words_key(page.title), words_key(html_pages[key].title)
        agree += bool(ours and theirs and (ours in theirs or theirs in ours))
    print(f"  title found in the text dump agrees with the HTML metadata title: {agree}/{len(text_pages)}")


def reuters_story_words(raw: str) -> list[str]:
    """The words of a wire story's body: without its title line and its sign-off lines."""
    lines = raw.strip().split("\n")[1:]
    while lines and (not lines[-1].strip() or _SIGNOFF_LINE.match(lines[-1])):
        lines.pop()
    return _TOKEN.findall(_SIGNOFF.sub("", "\n".join(lines).rstrip()).lower())


def report_reuters(corpus: Path, limit: int | None) -> None:
    folder = corpus / "dev" / "reuters"
    gold = json.loads((folder / "gold.json").read_text())
    keys = sorted(gold)[:limit] if limit else sorted(gold)
    titles = whole = signoffs = controls = lost = 0
    kept_shares, seconds = [], []
    for key in keys:
        raw = read_text(folder / key)
        page, elapsed = timed(clean_text_page, raw)
        seconds.append(elapsed)
        titles += page.title == gold[key]["title"]
        expected = Counter(reuters_story_words(raw))
        kept = sum((expected & Counter(_TOKEN.findall(page.text.lower()))).values())
        share = kept / max(1, sum(expected.values()))
        kept_shares.append(share)
        whole += share >= REUTERS_MIN_KEPT
        signoffs += bool(_SIGNOFF_LEFT.search(page.text))
        controls += bool(_CONTROL.search(page.text))
        lost += not has_article(page.text)
    n = len(keys)
    print(
        f"  {n} stories   title exact {titles}/{n}   whole (>= {REUTERS_MIN_KEPT:.0%} of words) {whole}/{n}"
        f"   mean words kept {statistics.mean(kept_shares):.3%}"
    )
    print(f"  sign-off left {signoffs}   control characters left {controls}   no article body {lost}")
    print(f"  time: {describe_times(seconds)}")


def report_dedup(corpus: Path) -> None:
    folder = corpus / "dev" / "dedup"
    gold = json.loads((folder / "gold.json").read_text())
    counts, lost = [], []
    cleaned = clean_through_pipeline([f"{folder}/*/*.txt"])
    for key, (start, end) in sorted(gold["body_span"].items()):
        raw = read_text(folder / key)
        page = cleaned[str(folder / key)]
        counts.append(tp_fp_fn(raw[start:end], page.text))
        if not has_article(page.text):
            lost.append(key)
    p, r, f = macro_scores(counts)
    print(
        f"  {len(counts)} pages   against body_span: precision {p:.3f}  recall {r:.3f}  F1 {f:.3f}"
        f"   no article body: {len(lost)}" + (f" ({', '.join(lost[:5])})" if lost else "")
    )


def report_dates_text(folder: Path) -> None:
    paths = sorted(folder.glob("*.txt"))
    cleaned = clean_through_pipeline([f"{folder}/*.txt"])
    seconds, lost = [], []
    for path in paths:
        _, elapsed = timed(clean_text_page, read_text(path))
        seconds.append(elapsed)
        if not has_article(cleaned[str(path)].text):
            lost.append(path.name)
    print(
        f"  {len(paths)} pages   no article body (the stage rejects them): {len(lost)}"
        + (f"   e.g. {', '.join(lost[:8])}" if lost else "")
    )
    print(f"  time: {describe_times(seconds)}")


CLEAN_COUNTERS = ("clean", "templates", "templates.lines", "templates.learn")


SCALE_GENERATOR = Path(__file__).resolve().parents[2] / "shared" / "tools" / "make_scale_corpus.py"
COST_SCALE_DOCS = 2000


def report_cost(corpus: Path) -> None:
    """The clean stage's share of full runs (read, clean, templates, dates, dedupe, entities, write): the
    time its functions were busy, from the run's own counters, over the run's wall time times its
    workers (one per core). On dev/dedup (63 % copies: NER runs on a third of the pages) and on a
    generated dump of COST_SCALE_DOCS realistic pages (~3 % copies)."""
    with tempfile.TemporaryDirectory() as scratch:
        dumps = {"dev/dedup": f"{corpus}/dev/dedup/*/*.txt"}
        if SCALE_GENERATOR.exists():
            scale = f"{scratch}/scale"
            command = [sys.executable, str(SCALE_GENERATOR), str(corpus / "dev"), scale, "--docs", str(COST_SCALE_DOCS)]
            subprocess.run(command, check=True, capture_output=True)
            dumps[f"generated dump of {COST_SCALE_DOCS} pages"] = f"{scale}/batch-*"
        for name, pattern in dumps.items():
            summary = run_ingest(IngestConfig(inputs=(pattern,), output=f"{scratch}/out-{len(name)}"))
            counters, wall = summary["counters"], summary["wall_seconds"]
            workers = os.cpu_count() or 1
            busy = sum(counters.get(f"{stage}.busy_us", 0) for stage in CLEAN_COUNTERS) / 1e6
            print(
                f"  full run on {name}: {summary['documents']} pages, {wall:.1f} s wall on {workers} workers; "
                f"cleaning busy {busy:.1f} s = {busy / (wall * workers):.1%} of the run's worker time"
            )
            print("    " + ", ".join(f"{s} {counters.get(f'{s}.busy_us', 0) / 1e6:.2f} s" for s in CLEAN_COUNTERS))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--worst", type=int, default=0, help="list the N worst aeb pages")
    parser.add_argument("--quick", action="store_true", help="seeds and aeb only")
    parser.add_argument("--reuters-limit", type=int, default=None, help="only the first N Reuters stories")
    args = parser.parse_args(argv)
    args.corpus = args.corpus.resolve()
    if not (args.corpus / "dev" / "aeb-text" / "gold.json").exists():
        print(f"No gold corpus at {args.corpus}: nothing to measure (pass --corpus PATH).")
        return 0
    warm_up()
    print("seeds:")
    report_seeds(args.corpus)
    print("aeb-text (whole-page text input):")
    text_pages = report_aeb(args.corpus, "text", args.worst)
    print("aeb-html (HTML input through trafilatura):")
    html_pages = report_aeb(args.corpus, "html", args.worst)
    report_title_agreement(text_pages, html_pages)
    if args.quick:
        return 0
    print("reuters:")
    report_reuters(args.corpus, args.reuters_limit)
    print("dedup:")
    report_dedup(args.corpus)
    print("dates-text:")
    report_dates_text(args.corpus / "dev" / "dates-text")
    print("cost:")
    report_cost(args.corpus)
    return 0


if __name__ == "__main__":
    sys.exit(main())
