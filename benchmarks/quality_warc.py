"""WARC input: nothing lost, the same quality as the HTML-file path, and read throughput.

1. Builds a WARC crawl of 1,000 pages from ../shared/corpus/dev/aeb-html and dates-html
   (benchmarks/make_warc.py: each page with its real web address; 120 pages re-crawled a month later).
2. Runs the full pipeline on the WARC file, and on the same pages as HTML files, and compares:
   - lost documents: every response record must be in exactly one of articles/duplicates/rejects;
   - boilerplate: the Zyte metric (macro P/R/F1 over shingles) of the aeb pages' bodies;
   - dates: exact day and htmldate-style P/R/F1 on the dates-html pages, with and without the
     fetch-date fallback (date_source "fetched", which the HTML files do not have).
3. Read throughput of the WARC file on one core, before extraction: FastWARC and warcio reading every
   response payload, and newsflow's own reader (`transforms.containers.read_entries`).

Usage: python benchmarks/quality_warc.py [--corpus ../shared/corpus/dev] [--pages 1000]
"""
from __future__ import annotations

import argparse
import json
import pathlib
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from make_warc import DEFAULT_CORPUS, corpus_pages, write_warc
from quality_boilerplate import macro_scores, tp_fp_fn
from quality_dates import counted

from pipelines.ingest import run_ingest
from pipelines.options import IngestConfig
from schemas.tables import ARTICLES, DUPLICATES, REJECTS
from storage.visible import open_table
from transforms.containers import read_entries


def rows(output: str, table: str, columns: list[str]) -> list[dict]:
    return open_table(output, table).to_table(columns=columns).to_pylist()


def results_by_page(output: str, page_of) -> tuple[dict, int]:
    """{corpus page: (article text, published date as ISO, date source)} and the number of rows."""
    articles = rows(output, ARTICLES, ["doc_id", "source_uri", "url", "text", "published_date", "date_source"])
    duplicates = rows(output, DUPLICATES, ["source_uri", "url", "duplicate_of", "published_date"])
    rejects = rows(output, REJECTS, ["source_uri"])
    by_id = {row["doc_id"]: row for row in articles}
    found = {}
    for row in articles:
        found.setdefault(page_of(row), (row["text"], row["published_date"], row["date_source"]))
    for row in duplicates:
        kept = by_id.get(row["duplicate_of"], {})
        found.setdefault(page_of(row), (kept.get("text", ""), row["published_date"], kept.get("date_source")))
    return found, len(articles) + len(duplicates) + len(rejects)


def report(title: str, found: dict, corpus: pathlib.Path) -> None:
    aeb = json.loads((corpus / "aeb-text" / "gold.json").read_text())
    dates = json.loads((corpus / "dates-text" / "gold.json").read_text())
    counts = [tp_fp_fn(expected["body"], found.get(("aeb", key), ("", None, None))[0])
              for key, expected in sorted(aeb.items())]
    p, r, f = macro_scores(counts)
    answers, without_fetch = [], []
    for key, expected in sorted(dates.items()):
        _, day, source = found.get(("dates", key), ("", None, None))
        got = day.isoformat() if day else None
        answers.append((got, expected["published"]))
        without_fetch.append((None if source == "fetched" else got, expected["published"]))
    print(f"  {title}")
    print(f"    boilerplate (aeb, {len(counts)} pages): P {p:.3f} R {r:.3f} F1 {f:.3f}")
    print(f"    dates ({len(answers)} pages):             {counted(answers)}")
    print(f"    dates without the fetch date:      {counted(without_fetch)}")


def throughput(warc: pathlib.Path) -> None:
    from fastwarc.warc import ArchiveIterator, WarcRecordType
    from warcio.archiveiterator import ArchiveIterator as WarcioIterator

    size = warc.stat().st_size

    def fastwarc_read():
        with warc.open("rb") as stream:
            for record in ArchiveIterator(stream, record_types=WarcRecordType.response, parse_http=True):
                record.reader.read()

    def warcio_read():
        with warc.open("rb") as stream:
            for record in WarcioIterator(stream):
                if record.rec_type == "response":
                    record.content_stream().read()

    def newsflow_read():
        for _ in read_entries(str(warc), str(warc), 64 << 20):
            pass

    print(f"read throughput, one core, {size / 1e6:.1f} MB of gzipped WARC (best of 3):")
    for name, read in (("FastWARC", fastwarc_read), ("warcio", warcio_read), ("newsflow reader", newsflow_read)):
        best = float("inf")
        for _ in range(3):
            started = time.perf_counter()
            read()
            best = min(best, time.perf_counter() - started)
        print(f"  {name:<16} {size / best / 1e6:7.1f} MB/s   ({best:.2f} s)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=pathlib.Path, default=DEFAULT_CORPUS)
    parser.add_argument("--pages", type=int, default=1000)
    args = parser.parse_args(argv)
    corpus = args.corpus
    if not (corpus / "aeb-html").is_dir():
        print(f"corpus not found at {corpus}: the shared dev corpus is not shipped with newsflow; nothing to measure")
        return 0
    pages = corpus_pages(corpus)
    page_by_url = {url: path for path, url in pages}

    def corpus_key(path: pathlib.Path) -> tuple[str, str]:
        if path.parent.parent.name == "aeb-html":
            return "aeb", f"{path.parent.name}/{path.stem}.txt"
        return "dates", f"{path.stem}.txt"

    with tempfile.TemporaryDirectory() as tmp:
        warc = pathlib.Path(tmp) / "crawl.warc.gz"
        write_warc(warc, pages, args.pages)
        throughput(warc)
        out_warc, out_html = f"{tmp}/from-warc", f"{tmp}/from-html"
        started = time.perf_counter()
        run_ingest(IngestConfig(inputs=(str(warc),), output=out_warc))
        warc_seconds = time.perf_counter() - started
        found_warc, rows_warc = results_by_page(out_warc, lambda row: corpus_key(page_by_url[row["url"]]))
        started = time.perf_counter()
        run_ingest(IngestConfig(inputs=(str(corpus / "aeb-html"), str(corpus / "dates-html")), output=out_html))
        html_seconds = time.perf_counter() - started
        found_html, rows_html = results_by_page(
            out_html, lambda row: corpus_key(pathlib.Path(row["source_uri"].removeprefix("file://"))))
    print(f"documents: WARC {args.pages} response records in, {rows_warc} rows out "
          f"({args.pages - rows_warc} lost); HTML files {len(pages)} in, {rows_html} rows out")
    print(f"full run: WARC {warc_seconds:.1f} s, HTML files {html_seconds:.1f} s "
          f"(ratio {warc_seconds / html_seconds:.2f}; the WARC holds {args.pages - len(pages)} re-crawls more)")
    report("from the WARC file (web address and fetch date known)", found_warc, corpus)
    report("from the HTML files (no web address)", found_html, corpus)
    return 0


if __name__ == "__main__":
    sys.exit(main())
