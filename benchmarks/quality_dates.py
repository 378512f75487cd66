"""Quality and speed of the dates stage on the shared gold corpora, with htmldate as a reference.

    .venv/bin/python benchmarks/quality_dates.py [--corpus ../shared/corpus] [--no-htmldate] [--only seeds]

Reports:
- seeds: x/5 (the gold notes allow a second day for some seeds: "either day is acceptable: A or B");
- dev/reuters: exact-day and within-one-day accuracy against gold `published`;
- dev/dates-text: exact-day accuracy (null gold with a null answer counts as correct), once with the
  file path as source_uri (what the pipeline sees) and once with the page's web address from gold.json;
- htmldate 1.x on the same text inputs (each line an HTML paragraph), as a reference;
- dev/dates-html: the HTML pages through the pipeline's clean and dates functions, exact-day accuracy and
  precision/recall/F1 as htmldate's evaluation counts them, with htmldate (extensive search) beside it;
- time per page of `extract_publication_date` (best of 3 runs; mean, 99th percentile and max).

`page` is the raw file text. `body` comes from `transforms.clean.clean_text_page` when that module exists,
else from the raw text after its first line (a rough body). Exits 0 with a message without the corpus.
"""
from __future__ import annotations

import argparse
import datetime as dt
import html
import json
import logging
import re
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from transforms.dates import extract_publication_date

DEFAULT_CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus"
ALTERNATE_DAYS = re.compile(r"either day is acceptable: (\d{4}-\d\d-\d\d) or (\d{4}-\d\d-\d\d)")


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


def as_html(text: str) -> str:
    """The text as a minimal HTML page, one paragraph a line, for htmldate."""
    paragraphs = "".join(f"<p>{html.escape(line)}</p>\n" for line in text.split("\n") if line.strip())
    return f"<html><head></head><body>{paragraphs}</body></html>"


def htmldate_day(text: str, url: str | None = None) -> str | None:
    import htmldate

    try:
        return htmldate.find_date(as_html(text), url=url, original_date=True, extensive_search=True)
    except Exception:  # noqa: BLE001 - a reference tool failing counts as "no date"
        return None


# ---------------------------------------------------------------------------------------------
# Runs
# ---------------------------------------------------------------------------------------------


class Timer:
    """Time of `extract_publication_date` per page: the best of a few runs, so that other processes on a
    shared machine do not count."""

    RUNS = 3

    def __init__(self):
        self.seconds: list[float] = []

    def run(self, *args, **kwargs):
        best = float("inf")
        for _ in range(self.RUNS):
            start = time.perf_counter()
            result = extract_publication_date(*args, **kwargs)
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


def run_seeds(corpus: Path, timer: Timer, show: bool) -> None:
    gold = json.loads((corpus / "seeds.gold.json").read_text())["documents"]
    ok = exact = 0
    for name, expected in sorted(gold.items()):
        path = corpus / "seeds" / name
        raw = read_text(path)
        body, title = rough_body(raw)
        result = timer.run(raw, body, title, str(path))
        alternates = ALTERNATE_DAYS.search(expected.get("published_note", ""))
        accepted = {expected["published"], *(alternates.groups() if alternates else ())}
        got = iso(result.published_date)
        ok += got in accepted
        exact += got == expected["published"]
        print(f"  {name}: {got} ({result.date_source}, {result.confidence}) gold {expected['published']}"
              f" -> {'ok' if got in accepted else 'WRONG'}")
    print(f"seeds: {ok}/{len(gold)} (exact gold day {exact}/{len(gold)})")


def run_reuters(corpus: Path, timer: Timer, with_htmldate: bool, show: bool) -> None:
    folder = corpus / "dev" / "reuters"
    gold = json.loads((folder / "gold.json").read_text())
    ours, theirs = DayScore(), DayScore()
    misses = []
    for name, expected in sorted(gold.items()):
        path = folder / name
        raw = read_text(path)
        body, title = rough_body(raw)
        want = dt.date.fromisoformat(expected["published"])
        got = timer.run(raw, body, title, str(path)).published_date
        ours.add(got, want)
        if got != want:
            misses.append((name, iso(got), expected["published"]))
        if with_htmldate:
            found = htmldate_day(raw)
            theirs.add(dt.date.fromisoformat(found) if found else None, want)
    print(f"reuters: ours     {ours.report()}")
    if with_htmldate:
        print(f"reuters: htmldate {theirs.report()}")
    if show:
        for miss in misses:
            print("   miss", *miss)


class DayScore:
    """Exact-day and within-one-day accuracy."""

    def __init__(self):
        self.n = self.exact = self.near = 0

    def add(self, got: dt.date | None, want: dt.date) -> None:
        self.n += 1
        self.exact += got == want
        self.near += got is not None and abs((got - want).days) <= 1

    def report(self) -> str:
        n = max(self.n, 1)
        return (f"exact day {self.exact / n:.4f} ({self.exact}/{self.n}), "
                f"within one day {self.near / n:.4f} ({self.near}/{self.n})")


def run_dates_text(corpus: Path, timer: Timer, with_htmldate: bool, show: bool) -> None:
    folder = corpus / "dev" / "dates-text"
    gold = json.loads((folder / "gold.json").read_text())
    scores = {"ours, source_uri = file path": 0, "ours, source_uri = page URL": 0}
    if with_htmldate:
        scores |= {"htmldate, text only": 0, "htmldate, text + page URL": 0}
    misses = []
    for name, expected in sorted(gold.items()):
        raw = read_text(folder / name)
        body, title = rough_body(raw)
        want = expected["published"]
        got = iso(timer.run(raw, body, title, str(folder / name)).published_date)
        scores["ours, source_uri = file path"] += got == want
        url = expected.get("url") or ""
        scores["ours, source_uri = page URL"] += iso(extract_publication_date(raw, body, title, url).published_date) == want
        if got != want:
            misses.append((name, got, want, url))
        if with_htmldate:
            scores["htmldate, text only"] += htmldate_day(raw) == want
            scores["htmldate, text + page URL"] += htmldate_day(raw, url or None) == want
    n = len(gold)
    print(f"dates-text: {n} pages, exact-day accuracy")
    for label, hits in scores.items():
        print(f"  {label:32s} {hits / n:.4f} ({hits}/{n})")
    if show:
        for miss in misses:
            print("   miss", *miss)


def counted(answers: list[tuple[str | None, str | None]]) -> str:
    """Exact-day accuracy, and precision/recall/F1 as htmldate's evaluation counts them: a right date is
    a true positive, a wrong one a false positive, none where gold has one a false negative."""
    right = sum(got == want for got, want in answers)
    tp = sum(got is not None and got == want for got, want in answers)
    fp = sum(got is not None and got != want for got, want in answers)
    fn = sum(got is None and want is not None for got, want in answers)
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return f"exact day {right / len(answers):.4f}   P {precision:.3f} R {recall:.3f} F1 {f1:.3f}"


def run_dates_html(corpus: Path, with_htmldate: bool) -> None:
    """The HTML pages through the pipeline's own functions: clean (trafilatura, its metadata date as a
    hint), then the dates stage; htmldate (extensive search) on the same HTML as the reference."""
    import htmldate

    from transforms.clean import clean_document
    from transforms.dates import date_document
    from transforms.document import Document, content_id
    from transforms.routing import Rejected

    folder = corpus / "dev" / "dates-html"
    gold = json.loads((corpus / "dev" / "dates-text" / "gold.json").read_text())
    ours, reference = [], []
    for name, expected in sorted(gold.items()):
        path = folder / name.replace(".txt", ".html")
        data = path.read_bytes()
        doc = Document(content_id(data), str(path), "html", "utf-8", data.decode("utf-8", "replace"))
        try:
            doc = clean_document(doc)
        except Rejected:
            doc.text = ""  # no body: the dates stage still reads the page
        ours.append((iso(date_document(doc).published_date), expected["published"]))
        if with_htmldate:
            try:
                found = htmldate.find_date(doc.raw, original_date=True, extensive_search=True)
            except Exception:  # noqa: BLE001 - a reference tool failing counts as "no date"
                found = None
            reference.append((found, expected["published"]))
    print(f"dates-html: {len(ours)} pages")
    print(f"  ours (the pipeline's functions)  {counted(ours)}")
    if with_htmldate:
        print(f"  htmldate, extensive search       {counted(reference)}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--no-htmldate", action="store_true", help="skip the htmldate reference")
    parser.add_argument("--rough-body", action="store_true", help="do not use the clean stage for the body")
    parser.add_argument("--show-misses", action="store_true")
    parser.add_argument("--only", choices=["seeds", "reuters", "dates-text", "dates-html"])
    args = parser.parse_args(argv)
    if not (args.corpus / "seeds.gold.json").exists():
        print(f"quality_dates: no gold corpus at {args.corpus}; nothing to measure.")
        return 0
    logging.disable(logging.WARNING)  # htmldate logs every page it cannot date
    global CLEAN
    if args.rough_body:
        CLEAN = None
    print(f"body from: {'transforms.clean.clean_text_page' if CLEAN else 'raw text after the first line'}")
    timer = Timer()
    if args.only in (None, "seeds"):
        run_seeds(args.corpus, timer, args.show_misses)
    if args.only in (None, "reuters"):
        run_reuters(args.corpus, timer, not args.no_htmldate, args.show_misses)
    if args.only in (None, "dates-text"):
        run_dates_text(args.corpus, timer, not args.no_htmldate, args.show_misses)
    if args.only in (None, "dates-html"):
        run_dates_html(args.corpus, not args.no_htmldate)
    print(f"time per page (extract_publication_date only): {timer.report()}")
    if CLEAN_FAILURES:
        print(f"note: the clean stage failed on {len(CLEAN_FAILURES)} pages (rough body used), e.g. {CLEAN_FAILURES[0]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
