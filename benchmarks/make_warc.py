"""Build a WARC news crawl from the HTML pages of ../shared/corpus/dev (aeb-html and dates-html).

Each page becomes an HTTP response record (gzip per record, as crawlers write them) with its real web
address from the corpus gold as WARC-Target-URI, preceded by its request record, after one warcinfo
record. Pages beyond the corpus (to reach --pages) are re-crawls of earlier pages a month later: the
same URL and bytes, a later WARC-Date, as a crawler revisiting a site writes them.

Usage: python benchmarks/make_warc.py OUT.warc.gz [--pages 1000] [--corpus ../shared/corpus/dev]
"""
from __future__ import annotations

import argparse
import datetime as dt
import io
import itertools
import json
import pathlib
import sys
import urllib.parse

from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

ROOT = pathlib.Path(__file__).resolve().parent.parent
DEFAULT_CORPUS = ROOT.parent / "shared" / "corpus" / "dev"
CRAWL_DATE = dt.datetime(2025, 1, 15, 12, 0, tzinfo=dt.timezone.utc)


def corpus_pages(corpus: pathlib.Path) -> list[tuple[pathlib.Path, str]]:
    """(HTML file, its web address) for every page of aeb-html and dates-html, in a fixed order."""
    pages = []
    for html_dir, text_dir in (("aeb-html", "aeb-text"), ("dates-html", "dates-text")):
        gold = json.loads((corpus / text_dir / "gold.json").read_text())
        for name, expected in sorted(gold.items()):
            path = corpus / html_dir / name.replace(".txt", ".html")
            if path.exists() and expected.get("url"):
                # Crawlers record addresses percent-encoded (HTTP headers are ASCII).
                pages.append((path, urllib.parse.quote(expected["url"], safe=":/?#[]@!$&'()*+,;=%~")))
    return pages


def write_warc(out: pathlib.Path, pages: list[tuple[pathlib.Path, str]], count: int) -> int:
    with out.open("wb") as stream:
        writer = WARCWriter(stream, gzip=True)
        writer.write_record(writer.create_warcinfo_record(out.name, {"software": "newsflow make_warc"}))
        for index, (path, url) in enumerate(itertools.islice(itertools.cycle(pages), count)):
            fetched = CRAWL_DATE + dt.timedelta(seconds=index, days=30 * (index // len(pages)))
            date = {"WARC-Date": fetched.strftime("%Y-%m-%dT%H:%M:%SZ")}
            request = StatusAndHeaders(f"GET {url} HTTP/1.1", [("Host", url.split("/")[2])], is_http_request=True)
            writer.write_record(writer.create_warc_record(url, "request", http_headers=request,
                                                          warc_headers_dict=dict(date)))
            body = path.read_bytes()
            headers = StatusAndHeaders("200 OK", [("Content-Type", "text/html"),
                                                  ("Content-Length", str(len(body)))], protocol="HTTP/1.1")
            writer.write_record(writer.create_warc_record(url, "response", payload=io.BytesIO(body),
                                                          http_headers=headers, warc_headers_dict=dict(date)))
    return count


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=pathlib.Path)
    parser.add_argument("--pages", type=int, default=1000)
    parser.add_argument("--corpus", type=pathlib.Path, default=DEFAULT_CORPUS)
    args = parser.parse_args(argv)
    if not (args.corpus / "aeb-html").is_dir():
        print(f"corpus not found at {args.corpus}: nothing to build (the shared corpus is not shipped)")
        return 1
    pages = corpus_pages(args.corpus)
    written = write_warc(args.out, pages, args.pages)
    print(f"{args.out}: {written} response records from {len(pages)} distinct pages, "
          f"{args.out.stat().st_size / 1e6:.1f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
