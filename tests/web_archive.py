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


def raw_warc_record(url: str, body: bytes, record_id: str | None = None, content_length: int | None = None,
                    record_type: str = "response") -> bytes:
    """One WARC record written by hand (uncompressed), for the records no writer makes: a chosen, shared or
    missing WARC-Record-ID (None leaves the header out), a Content-Length that lies."""
    http = b"HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\n\r\n" + body
    headers = [("WARC-Type", record_type), ("WARC-Target-URI", url), ("WARC-Date", "2024-03-02T10:00:00Z")]
    if record_id is not None:
        headers.append(("WARC-Record-ID", record_id))
    headers += [("Content-Type", "application/http; msgtype=response"),
                ("Content-Length", str(len(http) if content_length is None else content_length))]
    head = "WARC/1.0\r\n" + "".join(f"{name}: {value}\r\n" for name, value in headers) + "\r\n"
    return head.encode() + http + b"\r\n\r\n"


def gzip_members(records: list[bytes]) -> bytes:
    """Records compressed one gzip member each, as crawlers write .warc.gz files."""
    import gzip

    return b"".join(gzip.compress(record) for record in records)
