"""Quality and speed of the clean stage (boilerplate removal) on the shared gold corpora.

    .venv/bin/python benchmarks/quality_boilerplate.py [--corpus ../shared/corpus] [--worst N] [--quick]

Every corpus goes through the pipeline's own clean stage (`pipelines.ingest.CleanDump`: read, clean each
page, learn the templates across the dump, remove them) on the local runner, as a run would; the time
per page is measured separately, in process, on the page cleaner alone.

Reports:
- seeds: title equal to gold, body's first line / last line, boilerplate examples gone, title not
  repeated at the top of the body, known subheadings kept (x/5 each);
- the six body corpora (benchmarks/corpora.py BODY_CORPORA), as whole-page text dumps and as HTML: the
  Zyte article-extraction metric (4-gram shingles over `\\w+` tokens of the lower-cased text; per-page
  precision and recall, macro-averaged over pages, a page without prediction counting for recall only;
  F1 of the two averages) on each corpus's *check* half (sites no tuning or training ever read) and its
  *tune* half, beside the keep-everything floor; then the text cleaner with its line classifier trained
  without each corpus (leave-one-corpus-out). aeb has no gold title: as a proxy, how often the title
  found in the text dump agrees with the one trafilatura reads in the HTML page's metadata;
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
sys.path.insert(0, str(Path(__file__).resolve().parent))

import corpora
from corpora import BODY_CORPORA, Page, difference, macro_scores, page_precision, page_recall, tp_fp_fn

from pipelines.logs import mute_beam_noise

mute_beam_noise()  # before Beam is imported

import apache_beam as beam

from pipelines.ingest import CleanDump, run_ingest
from pipelines.options import IngestConfig, runner_and_options
from transforms import metrics
from transforms.clean import clean_text_page, has_article
from transforms.clean_html import CleanedPage, clean_html_page
from transforms.line_classifier import line_classifier
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
# Running the stage
# ---------------------------------------------------------------------------------------------


EMPTY_PAGE = CleanedPage(None, "", None, [])  # what a rejected page leaves


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
        str(path): pages.get(str(path), EMPTY_PAGE)
        for pattern in patterns
        for path in sorted(glob.glob(pattern, recursive=True))
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


def _corpus_pattern(name: str, kind: str, root: Path) -> str:
    if name == "aeb-text":
        return f"{root}/dev/aeb-{kind}/*/*.{'txt' if kind == 'text' else 'html'}"
    return f"{root}/dev/{name}/**/*.{'txt' if kind == 'text' else 'html.gz'}"


def _input_path(page: Page, kind: str, root: Path) -> Path:
    if kind == "text":
        return corpora.text_path(page, root)
    if page.corpus == "aeb-text":
        return root / "dev" / "aeb-html" / page.key.replace(".txt", ".html")
    return root / "dev" / page.corpus / page.key.replace(".txt", ".html.gz")


def _figure(counts: list[tuple[float, float, float]]) -> str:
    p, r, f = macro_scores(counts)
    return f"P {p:.3f} R {r:.3f} F1 {f:.3f}"


def report_body_corpora(root: Path, kind: str, worst: int) -> dict[str, dict[str, CleanedPage]]:
    """The Zyte metric of the clean stage on every body corpus, on its tune and check halves (by
    site, benchmarks/corpora.py), with the keep-everything floor; returns the cleaned pages by corpus
    and gold key. One pipeline run over all six corpora, as one dump: templates are learned per site."""
    items = {name: corpora.pages(name, root) for name in BODY_CORPORA}
    cleaned = clean_through_pipeline([_corpus_pattern(name, kind, root) for name in BODY_CORPORA])
    found: dict[str, dict[str, CleanedPage]] = {}
    macro = {"tune": [], "check": []}
    for name in BODY_CORPORA:
        found[name] = {page.key: cleaned.get(str(_input_path(page, kind, root)), EMPTY_PAGE) for page in items[name]}
        figures = {}
        for half, half_items in corpora.iter_split(items[name]):
            counts = [tp_fp_fn(page.gold["body"], found[name][page.key].text) for page in half_items]
            figures[half] = counts
            macro[half].append(macro_scores(counts))
        floor = [tp_fp_fn(page.gold["body"], corpora.read_text_dump(page, root)) for page in items[name]]
        tune_f1, check_f1 = macro_scores(figures["tune"])[2], macro_scores(figures["check"])[2]
        print(f"  {name:<16} check ({len(figures['check'])} pages) {_figure(figures['check'])}   "
              f"tune ({len(figures['tune'])}) {_figure(figures['tune'])}   {difference(tune_f1, check_f1)}   "
              f"(keep-everything F1 {macro_scores(floor)[2]:.3f})")
        if worst:
            rows = sorted(((page.key, tp_fp_fn(page.gold["body"], found[name][page.key].text))
                           for page in corpora.tune_items(items[name])),
                          key=lambda row: min(page_precision(*row[1]), page_recall(*row[1])))
            for key, c in rows[:worst]:  # tune pages only: the check half is not for looking at
                print(f"      {key:<60} P {page_precision(*c):.2f} R {page_recall(*c):.2f}")
    for half in ("check", "tune"):
        scores = macro[half]
        print(f"  macro over the six, {half} halves: P {statistics.mean(s[0] for s in scores):.3f} "
              f"R {statistics.mean(s[1] for s in scores):.3f} F1 {statistics.mean(s[2] for s in scores):.3f}"
              f"   lowest F1 {min(s[2] for s in scores):.3f}")
    return found


def report_leave_one_corpus_out(root: Path) -> None:
    """The cleaner with its line classifier retrained without each corpus (tune halves of the other five),
    scored on the left-out corpus's halves: how it does on a kind of page it never saw. In process, page
    by page, without template learning. Needs the training extra (CatBoost)."""
    try:
        import catboost  # noqa: F401
    except ImportError:
        print("  (skipped: CatBoost is not installed; pip install -e '.[train]')")
        return
    import train_line_classifier as training

    tuning = training.tune_data(root)
    threshold = line_classifier().threshold
    macro = {"tune": [], "check": []}
    for name in BODY_CORPORA:
        classifier = training.fit([page for other, items in tuning.items() if other != name for page in items], threshold)
        figures = {}
        for half, half_items in corpora.iter_split(corpora.pages(name, root)):
            figures[half] = [
                tp_fp_fn(page.gold["body"], clean_text_page(corpora.read_text_dump(page, root), classifier=classifier).text)
                for page in half_items
            ]
            macro[half].append(macro_scores(figures[half]))
        tune_f1, check_f1 = macro_scores(figures["tune"])[2], macro_scores(figures["check"])[2]
        print(f"  {name:<16} left out: check {_figure(figures['check'])}   tune {_figure(figures['tune'])}   "
              f"{difference(tune_f1, check_f1)}", flush=True)
    for half in ("check", "tune"):
        scores = macro[half]
        print(f"  macro over the six, {half} halves: F1 {statistics.mean(s[2] for s in scores):.3f}   "
              f"lowest {min(s[2] for s in scores):.3f}")


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
            busy = sum(counters.get(metrics.busy_us(stage), 0) for stage in CLEAN_COUNTERS) / 1e6
            print(
                f"  full run on {name}: {summary['documents']} pages, {wall:.1f} s wall on {workers} workers; "
                f"cleaning busy {busy:.1f} s = {busy / (wall * workers):.1%} of the run's worker time"
            )
            print("    " + ", ".join(f"{s} {counters.get(metrics.busy_us(s), 0) / 1e6:.2f} s" for s in CLEAN_COUNTERS))


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
    print("body corpora, whole-page text dumps (the shipped cleaner, in the pipeline, templates learned per site):")
    text_pages = report_body_corpora(args.corpus, "text", args.worst)
    print("body corpora, whole-page text dumps, leave-one-corpus-out (the line classifier trained without it):")
    report_leave_one_corpus_out(args.corpus)
    print("body corpora, HTML (through trafilatura, in the pipeline):")
    html_pages = report_body_corpora(args.corpus, "html", args.worst)
    report_title_agreement(text_pages["aeb-text"], html_pages["aeb-text"])
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
