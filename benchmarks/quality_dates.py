"""Quality and speed of the dates stage on every gold corpus with publication dates, with htmldate beside it.

    .venv/bin/python benchmarks/quality_dates.py [--corpus ../shared/corpus] [--no-htmldate]
        [--only seeds|reuters|dates-text|dates-html|readability] [--show-misses]

Every figure is given on the tune half and on the check half of its corpus (`benchmarks/corpora.py`: a
fixed split by site), with the tune-vs-check difference beside it, for newsflow and for htmldate on the same
pages in the same run. `--show-misses` lists newsflow's misses on the tune half only: the check half is
for measuring, never for reading failures.

- seeds: x/5 (the gold notes allow a second day for some seeds: "either day is acceptable: A or B");
- dev/reuters: exact-day and within-one-day accuracy against gold `published`;
- dev/dates-text: exact-day accuracy of whole-page text, with the file path as source_uri (what the
  pipeline sees of a text dump) and with the page's web address from gold beside it (as from a WARC);
  htmldate (extensive search, original_date False and True) on the same text, each line an HTML paragraph;
- dev/dates-html: the HTML pages through the pipeline's clean and dates functions, exact-day accuracy and
  precision/recall/F1 as htmldate's evaluation counts them; htmldate (extensive search) on the same HTML;
- dev/readability: the pages whose gold states `published`, as text and as HTML, as above;
- time per page of the dates functions (best of 3 runs; mean, 99th percentile and max): text pages
  through `extract_publication_date`, HTML pages through `date_document` (htmldate included).

`page` is the raw file text. `body` comes from `transforms.clean.clean_text_page` when that module exists,
else from the raw text after its first line (a rough body). Exits 0 with a message without the corpus.
"""
from __future__ import annotations

import argparse
import datetime as dt
import gzip
import json
import logging
import re
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import corpora  # benchmarks/ is put on the path above

from transforms.dates import extract_publication_date
from transforms.htmldates import text_as_html

DEFAULT_CORPUS = corpora.DEFAULT_CORPUS
ALTERNATE_DAYS = re.compile(r"either day is acceptable: (\d{4}-\d\d-\d\d) or (\d{4}-\d\d-\d\d)")
NEWSFLOW = "newsflow"


# ---------------------------------------------------------------------------------------------
# Inputs
# ---------------------------------------------------------------------------------------------


def _clean_stage():
    """`clean_text_page` from the clean stage when it exists, else None."""
    try:
        from transforms.clean import clean_text_page
    except Exception:  # noqa: BLE001 - the clean stage may not exist yet, or be half-written
        return None
    return clean_text_page


CLEAN = _clean_stage()
CLEAN_FAILURES: list[str] = []  # pages the clean stage failed on (they get the rough body), reported


def rough_body(raw: str) -> tuple[str, str | None]:
    """(body, title): from the clean stage if available, else the text after the first line."""
    if CLEAN is not None:
        try:
            return _from_clean_result(CLEAN(raw))
        except Exception as error:  # noqa: BLE001 - a benchmark of dates should not die of a clean-stage bug
            CLEAN_FAILURES.append(f"{type(error).__name__}: {error}")
    _, _, rest = raw.lstrip("\n").partition("\n")
    return rest.strip("\n"), None


def _from_clean_result(result) -> tuple[str, str | None]:
    if isinstance(result, str):
        return result, None
    if isinstance(result, tuple):
        texts = [x for x in result if isinstance(x, str)]
        return (texts[-1] if texts else ""), (texts[0] if len(texts) > 1 else None)
    body = getattr(result, "text", None) or getattr(result, "body", None) or ""
    return body, getattr(result, "title", None)


def read_text(path: Path) -> str:
    return path.read_text(encoding="utf-8", errors="replace")


def html_path(page: corpora.Page, root: Path) -> Path:
    """Where a page's HTML is: dates-html/<id>.html for dates-text, <key>.html.gz beside the text else."""
    if page.corpus == "dates-text":
        return root / "dev" / "dates-html" / page.key.replace(".txt", ".html")
    return root / "dev" / page.corpus / page.key.replace(".txt", ".html.gz")


def read_html_bytes(path: Path) -> bytes:
    data = path.read_bytes()
    return gzip.decompress(data) if path.suffix == ".gz" else data


def htmldate_day(page_html: str, original_date: bool, url: str | None = None) -> str | None:
    """htmldate's answer, extensive search, on an HTML string given as bytes (a string that looks like
    a web address would be downloaded)."""
    import htmldate

    try:
        return htmldate.find_date(
            page_html.encode("utf-8"), url=url, original_date=original_date, extensive_search=True
        )
    except Exception:  # noqa: BLE001 - a reference tool failing counts as "no date"
        return None


# ---------------------------------------------------------------------------------------------
# Scores: every figure on the tune and check halves, with the difference
# ---------------------------------------------------------------------------------------------


class Answer(NamedTuple):
    page: corpora.Page
    got: str | None
    want: str | None


def exact_day(answers: list[Answer]) -> float:
    """Share of pages with the gold day (no date where gold has none counts as right)."""
    return sum(a.got == a.want for a in answers) / max(len(answers), 1)


def within_one_day(answers: list[Answer]) -> float:
    def near(a: Answer) -> bool:
        if a.got is None or a.want is None:
            return a.got == a.want
        return abs((dt.date.fromisoformat(a.got) - dt.date.fromisoformat(a.want)).days) <= 1

    return sum(map(near, answers)) / max(len(answers), 1)


def precision_recall_f1(pairs: list[tuple[str | None, str | None]]) -> tuple[float, float, float]:
    """As htmldate's evaluation counts them: a right date is a true positive, a wrong one a false positive,
    none where gold has one a false negative."""
    tp = sum(got is not None and got == want for got, want in pairs)
    fp = sum(got is not None and got != want for got, want in pairs)
    fn = sum(got is None and want is not None for got, want in pairs)
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


def f1(answers: list[Answer]) -> float:
    return precision_recall_f1([(a.got, a.want) for a in answers])[2]


def counted(answers: list[tuple[str | None, str | None]]) -> str:
    """Exact-day accuracy and precision/recall/F1 of (got, want) pairs, on one line."""
    right = sum(got == want for got, want in answers)
    precision, recall, score = precision_recall_f1(answers)
    return f"exact day {right / max(len(answers), 1):.4f}   P {precision:.3f} R {recall:.3f} F1 {score:.3f}"


Metric = Callable[[list[Answer]], float]


def print_table(title: str, answers: dict[str, list[Answer]], metrics: dict[str, Metric]) -> None:
    """One row per reader and metric: tune, check, their difference, and the whole dev set."""
    some = next(iter(answers.values()))
    tune, check = corpora.tune_items([a.page for a in some]), corpora.check_items([a.page for a in some])
    print(f"{title}: {len(some)} pages (tune {len(tune)}, check {len(check)})")
    print(f"  {'reader':44s} {'metric':15s} {'tune':>7s} {'check':>7s}  {'difference':17s} {'all':>7s}")
    for reader, rows in answers.items():
        for name, metric in metrics.items():
            on_tune = metric([a for a in rows if not a.page.check])
            on_check = metric([a for a in rows if a.page.check])
            print(f"  {reader:44s} {name:15s} {on_tune:7.4f} {on_check:7.4f}  "
                  f"{corpora.difference(on_tune, on_check):17s} {metric(rows):7.4f}")


def print_tune_misses(rows: list[Answer]) -> None:
    """newsflow's misses on the tune half (the check half is never shown)."""
    for answer in rows:
        if not answer.page.check and answer.got != answer.want:
            print("   miss", answer.page.key, answer.got, answer.want, answer.page.gold.get("url") or "")


# ---------------------------------------------------------------------------------------------
# Runs
# ---------------------------------------------------------------------------------------------


class Timer:
    """Time of a dates function per page: the best of a few runs, so that other processes on a shared
    machine do not count."""

    RUNS = 3

    def __init__(self):
        self.seconds: list[float] = []

    def run(self, function, *args, **kwargs):
        best = float("inf")
        for _ in range(self.RUNS):
            start = time.perf_counter()
            result = function(*args, **kwargs)
            best = min(best, time.perf_counter() - start)
        self.seconds.append(best)
        return result

    def report(self) -> str:
        ms = sorted(s * 1000 for s in self.seconds)
        if not ms:
            return "no pages"
        p99 = ms[min(len(ms) - 1, int(len(ms) * 0.99))]
        return f"{statistics.mean(ms):.3f} ms mean, {p99:.3f} ms p99, {ms[-1]:.1f} ms max over {len(ms)} pages"


def iso(day: dt.date | None) -> str | None:
    return day.isoformat() if day else None


def run_seeds(corpus: Path, timer: Timer) -> None:
    gold = json.loads((corpus / "seeds.gold.json").read_text())["documents"]
    ok = exact = 0
    for name, expected in sorted(gold.items()):
        path = corpus / "seeds" / name
        raw = read_text(path)
        body, title = rough_body(raw)
        result = timer.run(extract_publication_date, raw, body, title, str(path))
        alternates = ALTERNATE_DAYS.search(expected.get("published_note", ""))
        accepted = {expected["published"], *(alternates.groups() if alternates else ())}
        got = iso(result.published_date)
        ok += got in accepted
        exact += got == expected["published"]
        print(f"  {name}: {got} ({result.date_source}, {result.confidence}) gold {expected['published']}"
              f" -> {'ok' if got in accepted else 'WRONG'}")
    print(f"seeds: {ok}/{len(gold)} (exact gold day {exact}/{len(gold)})")


def add_answers(answers: dict[str, list[Answer]], page: corpora.Page, readings: dict[str, str | None]) -> None:
    """Each reader's day for one page, against the page's gold."""
    for reader, got in readings.items():
        answers.setdefault(reader, []).append(Answer(page, got, page.gold["published"]))


def htmldate_readings(page_html: str) -> dict[str, str | None]:
    return {f"htmldate extensive, original_date={original}": htmldate_day(page_html, original)
            for original in (False, True)}


def text_answers(pages: list[corpora.Page], root: Path, timer: Timer, with_htmldate: bool,
                 with_url: bool = False) -> dict[str, list[Answer]]:
    """Each reader's answer on each page as whole-page text."""
    answers: dict[str, list[Answer]] = {}
    for page in pages:
        path = corpora.text_path(page, root)
        raw = read_text(path)
        body, title = rough_body(raw)
        readings = {NEWSFLOW: iso(timer.run(extract_publication_date, raw, body, title, str(path)).published_date)}
        if with_url:
            # As the pipeline gives it: the input's path, and the page's address beside it (WARC, JSON Lines).
            given = extract_publication_date(raw, body, title, str(path), url=page.gold.get("url"))
            readings["newsflow, page URL given"] = iso(given.published_date)
        if with_htmldate:
            readings |= htmldate_readings(text_as_html(raw))
        add_answers(answers, page, readings)
    return answers


def html_answers(pages: list[corpora.Page], root: Path, timer: Timer, with_htmldate: bool) -> dict[str, list[Answer]]:
    """Each reader's answer on each page as HTML: newsflow through the pipeline's clean and dates functions
    (trafilatura's metadata date as a hint), htmldate on the same HTML."""
    from schemas.records import Document
    from transforms.clean import clean_document
    from transforms.dates import date_document
    from transforms.identity import content_id
    from transforms.routing import Rejected

    answers: dict[str, list[Answer]] = {}
    for page in pages:
        path = html_path(page, root)
        data = read_html_bytes(path)
        doc = Document(content_id(data), str(path), "html", "utf-8", data.decode("utf-8", "replace"))
        try:
            doc = clean_document(doc)
        except Rejected:
            doc.text = ""  # no body: the dates stage still reads the page
        readings = {NEWSFLOW: iso(timer.run(date_document, doc).published_date)}
        if with_htmldate:
            readings |= htmldate_readings(doc.raw)
        add_answers(answers, page, readings)
    return answers


def run_reuters(root: Path, timer: Timer, with_htmldate: bool, show: bool) -> None:
    answers = text_answers(corpora.pages("reuters", root), root, timer, with_htmldate)
    print_table("reuters", answers, {"exact day": exact_day, "within a day": within_one_day})
    if show:
        print_tune_misses(answers[NEWSFLOW])


def run_dates_text(root: Path, timer: Timer, with_htmldate: bool, show: bool) -> None:
    answers = text_answers(corpora.pages("dates-text", root), root, timer, with_htmldate, with_url=True)
    print_table("dates-text (whole-page text)", answers, {"exact day": exact_day})
    if show:
        print_tune_misses(answers[NEWSFLOW])


def run_dates_html(root: Path, timer: Timer, with_htmldate: bool, show: bool) -> None:
    answers = html_answers(corpora.pages("dates-text", root), root, timer, with_htmldate)
    print_table("dates-html", answers, {"exact day": exact_day, "F1": f1})
    if show:
        print_tune_misses(answers[NEWSFLOW])


def run_readability(root: Path, text_timer: Timer, html_timer: Timer, with_htmldate: bool, show: bool) -> None:
    """The readability pages whose gold states a publication day, as text and as HTML."""
    pages = [page for page in corpora.pages("readability", root) if page.gold.get("published")]
    as_text = text_answers(pages, root, text_timer, with_htmldate)
    print_table("readability published, as text", as_text, {"exact day": exact_day})
    as_page = html_answers(pages, root, html_timer, with_htmldate)
    print_table("readability published, as HTML", as_page, {"exact day": exact_day, "F1": f1})
    if show:
        print_tune_misses(as_text[NEWSFLOW])
        print_tune_misses(as_page[NEWSFLOW])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--no-htmldate", action="store_true", help="skip the htmldate reference")
    parser.add_argument("--rough-body", action="store_true", help="do not use the clean stage for the body")
    parser.add_argument("--show-misses", action="store_true", help="newsflow's misses on the tune halves")
    parser.add_argument("--only", choices=["seeds", "reuters", "dates-text", "dates-html", "readability"])
    args = parser.parse_args(argv)
    if not (args.corpus / "seeds.gold.json").exists() or not corpora.exists(args.corpus):
        print(f"quality_dates: no gold corpus at {args.corpus}; nothing to measure.")
        return 0
    logging.disable(logging.WARNING)  # htmldate and trafilatura log every page they cannot date or parse
    global CLEAN
    if args.rough_body:
        CLEAN = None
    print(f"body from: {'transforms.clean.clean_text_page' if CLEAN else 'raw text after the first line'}")
    text_timer, html_timer = Timer(), Timer()
    with_htmldate, show = not args.no_htmldate, args.show_misses
    if args.only in (None, "seeds"):
        run_seeds(args.corpus, text_timer)
    if args.only in (None, "reuters"):
        run_reuters(args.corpus, text_timer, with_htmldate, show)
    if args.only in (None, "dates-text"):
        run_dates_text(args.corpus, text_timer, with_htmldate, show)
    if args.only in (None, "dates-html"):
        run_dates_html(args.corpus, html_timer, with_htmldate, show)
    if args.only in (None, "readability"):
        run_readability(args.corpus, text_timer, html_timer, with_htmldate, show)
    print(f"time per text page (extract_publication_date): {text_timer.report()}")
    print(f"time per HTML page (date_document): {html_timer.report()}")
    if CLEAN_FAILURES:
        print(f"note: the clean stage failed on {len(CLEAN_FAILURES)} pages (rough body used), e.g. {CLEAN_FAILURES[0]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
