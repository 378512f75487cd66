"""Write `samples/formats/`: one small delivery in each container format newsflow reads.

    python samples/make_formats.py

- crawl.warc.gz   a news crawl (gzip per record): warcinfo, then for each page a request and a response
                  record; also an image response and a 404 (both rejected with their reasons)
- export.jsonl    a scraper's export, one article per line (text, url, date, title); one broken line
- pages.zip       two text stories in a folder, and a member with a '../' path (rejected)
- pages.tar.gz    a text story, and a symbolic link (rejected)

Deterministic: fixed record ids, dates and archive timestamps, so running it again rewrites the same
bytes. All stories, towns, people and outlets are fictional and were written for this project.
"""
from __future__ import annotations

import gzip
import io
import json
import tarfile
import zipfile
from pathlib import Path

from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

FORMATS = Path(__file__).resolve().parent / "formats"

STORIES = {
    "ferry": (
        "Night ferry to Kelby Island makes its first crossing",
        (
            "PORT ALDER, March 8 - The night ferry to Kelby Island made its first crossing on Friday with 84 "
            "passengers and 12 cars, ending years of complaints from island workers who missed the last evening boat.\n\n"
            "The Alder Harbour Board approved the service in January after a petition signed by more than 2,000 "
            "islanders. The boat leaves the mainland pier at 11 p.m. and returns at midnight.\n\n"
            "\"I used to sleep on my sister's sofa three nights a week,\" said nurse Hilde Marrow, who works late "
            "shifts at Port Alder General Hospital. \"Tonight I will be home before one.\""
        ),
    ),
    "tram": (
        "Tram line to the university opens with a queue at dawn",
        (
            "The new tram line between Port Alder station and Kelby Vale University opened on Saturday, with "
            "students queuing in the rain for the first ride at 5:40 a.m.\n\n"
            "The 6.2-kilometre line has nine stops and cost 148 million, a third less than the figure opponents "
            "warned of when the council approved it in 2021. Fares stay frozen until the summer, the transport "
            "authority said, while a branch towards the hospital still waits for state funding."
        ),
    ),
    "library": (
        "Library lends guitars and violins from Monday",
        (
            "The Port Alder city library will lend musical instruments from Monday, starting with forty guitars, "
            "violins and keyboards donated by retired music teacher Osric Fenn.\n\n"
            "Borrowers need only a library card and may keep an instrument for four weeks. Fenn, 81, said he had "
            "collected the instruments over fifty years of teaching and wanted them \"played, not kept in a loft\"."
        ),
    ),
    "oaks": (
        "Volunteers plant 300 oaks along Riverside Park",
        (
            "Volunteers planted three hundred oak saplings along the eastern edge of Riverside Park on Sunday, "
            "replacing elms lost to disease in the last decade.\n\n"
            "The gardeners' association, which raised the money at a winter market, hopes the young wood will "
            "shelter birds and walkers within fifteen years. Schools in the district have each adopted a row of trees."
        ),
    ),
    "bakery": (
        "Harbour bakery reopens after the flood",
        (
            "The Quayside Bakery reopened on Tuesday, five months after the December flood filled its cellar and "
            "ruined two ovens.\n\n"
            "Owner Pia Lindqvist said neighbours had lent her a van and a spare oven so she could keep supplying "
            "the island school during the repairs. The first customers queued before seven for cardamom buns."
        ),
    ),
}


def html(title: str, body: str, date_line: str) -> bytes:
    paragraphs = "".join(f"<p>{p}</p>" for p in body.split("\n\n"))
    return (
        "<!doctype html><html><head><meta charset='utf-8'><title>" + title + " | Alder Gazette</title></head><body>"
        "<nav><a href='/'>Home</a> | <a href='/local'>Local</a> | <a href='/sport'>Sport</a></nav>"
        f"<article><h1>{title}</h1><p class='byline'>By Staff Reporter | {date_line}</p>{paragraphs}</article>"
        "<aside><h2>Most read</h2><ul><li>Council budget vote delayed</li><li>Storm warning for the coast</li></ul></aside>"
        "<footer>Share this | Copyright 2024 Alder Gazette. All rights reserved.</footer></body></html>"
    ).encode()


def write_warc(path: Path) -> None:
    pages = [
        ("https://www.alder-gazette.example/local/2024/03/08/night-ferry", "ferry", "March 8, 2024",
         "2024-03-09T06:00:00Z"),
        ("https://www.alder-gazette.example/local/tram-opens", "tram", "Saturday, 9 March 2024", "2024-03-10T06:00:00Z"),
    ]
    buffer = io.BytesIO()
    writer = WARCWriter(buffer, gzip=True)
    info = writer.create_warcinfo_record("crawl.warc.gz", {"software": "newsflow samples"})
    info.rec_headers.replace_header("WARC-Record-ID", "<urn:uuid:00000000-0000-4000-8000-000000000000>")
    info.rec_headers.replace_header("WARC-Date", "2024-03-10T06:00:00Z")
    writer.write_record(info)

    def record(number: int, url: str, kind: str, http: StatusAndHeaders, body: bytes, date: str) -> None:
        headers = {"WARC-Record-ID": f"<urn:uuid:00000000-0000-4000-8000-{number:012d}>", "WARC-Date": date}
        writer.write_record(writer.create_warc_record(url, kind, payload=io.BytesIO(body), http_headers=http,
                                                      warc_headers_dict=headers))

    def response(status: str, content_type: str) -> StatusAndHeaders:
        return StatusAndHeaders(status, [("Content-Type", content_type)], protocol="HTTP/1.1")

    number = 0
    for url, key, date_line, fetched in pages:
        title, body = STORIES[key]
        request = StatusAndHeaders(f"GET {url} HTTP/1.1", [("Host", url.split("/")[2])], is_http_request=True)
        record(number := number + 1, url, "request", request, b"", fetched)
        record(number := number + 1, url, "response", response("200 OK", "text/html; charset=utf-8"),
               html(title, body, date_line), fetched)
    record(number := number + 1, "https://www.alder-gazette.example/logo.png", "response",
           response("200 OK", "image/png"), b"\x89PNG\r\n\x1a\n", "2024-03-10T06:00:01Z")
    record(number + 1, "https://www.alder-gazette.example/local/old-story", "response",
           response("404 Not Found", "text/html"), b"<html><body>Not found</body></html>", "2024-03-10T06:00:02Z")
    path.write_bytes(buffer.getvalue())


def write_jsonl(path: Path) -> None:
    title, body = STORIES["library"]
    lines = [
        json.dumps({"url": "https://news.kelby-vale.example/library-instruments", "date": "2024-03-04",
                    "title": title, "text": body}),
        json.dumps({"url": "https://news.kelby-vale.example/feed-error", "title": "Feed error"})[:-12],  # cut off
        json.dumps({"url": "https://news.kelby-vale.example/ferry-crossing", "date": "2024-03-08T21:15:00Z",
                    "title": STORIES["ferry"][0] + " (wire)", "text": STORIES["ferry"][1]}),
    ]
    path.write_text("\n".join(lines) + "\n")


def write_zip(path: Path) -> None:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, key in (("riverside-weekly/oaks.txt", "oaks"), ("riverside-weekly/bakery.txt", "bakery")):
            title, body = STORIES[key]
            archive.writestr(zipfile.ZipInfo(name, date_time=(2024, 3, 11, 9, 0, 0)), f"{title}\n\n{body}\n")
        archive.writestr(zipfile.ZipInfo("../outside.txt", date_time=(2024, 3, 11, 9, 0, 0)), "written by a bad tool\n")


def write_tar(path: Path) -> None:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.USTAR_FORMAT) as archive:
        title, body = STORIES["tram"]
        data = f"{title}\n\nKELBY VALE, March 9 - {body}\n".encode()
        info = tarfile.TarInfo("kelby-vale-times/tram.txt")
        info.size, info.mtime = len(data), 1710147600
        archive.addfile(info, io.BytesIO(data))
        link = tarfile.TarInfo("kelby-vale-times/latest.txt")
        link.type, link.linkname, link.mtime = tarfile.SYMTYPE, "tram.txt", 1710147600
        archive.addfile(link)
    path.write_bytes(gzip.compress(buffer.getvalue(), mtime=0))


def main() -> None:
    FORMATS.mkdir(exist_ok=True)
    write_warc(FORMATS / "crawl.warc.gz")
    write_jsonl(FORMATS / "export.jsonl")
    write_zip(FORMATS / "pages.zip")
    write_tar(FORMATS / "pages.tar.gz")
    for path in sorted(FORMATS.iterdir()):
        print(f"{path.relative_to(FORMATS.parent)}  {path.stat().st_size} bytes")


if __name__ == "__main__":
    main()
