"""Small WARC files for tests, written with warcio (gzip per record, as crawlers write them)."""
from __future__ import annotations

import io

from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter


def warc_bytes(records: list[dict]) -> bytes:
    """A gzipped WARC file. Each record: url, body (bytes), and optionally status ("200 OK"),
    content_type ("text/html"), date ("2024-03-02T10:00:00Z"), type ("response", "request", "revisit")."""
    buffer = io.BytesIO()
    writer = WARCWriter(buffer, gzip=True)
    writer.write_record(writer.create_warcinfo_record("test.warc.gz", {"software": "newsflow tests"}))
    for record in records:
        url, body = record["url"], record.get("body", b"")
        kind = record.get("type", "response")
        warc_headers = {"WARC-Date": record.get("date", "2024-03-02T10:00:00Z")}
        if kind == "request":
            http = StatusAndHeaders(f"GET {url} HTTP/1.1", [("Host", url.split("/")[2])], is_http_request=True)
        else:
            http = StatusAndHeaders(record.get("status", "200 OK"),
                                    [("Content-Type", record.get("content_type", "text/html; charset=utf-8"))],
                                    protocol="HTTP/1.1")
        if kind == "revisit":
            warc_headers["WARC-Profile"] = "http://netpreserve.org/warc/1.0/revisit/identical-payload-digest"
        writer.write_record(writer.create_warc_record(url, kind, payload=io.BytesIO(body), http_headers=http,
                                                      warc_headers_dict=warc_headers))
    return buffer.getvalue()
