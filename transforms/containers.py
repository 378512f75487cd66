"""Files that hold many documents: WARC/ARC crawls, JSON Lines exports, zip and tar archives.

Each container is read as a stream, entry by entry, through fsspec (so from any store), and never
extracted to disk. Every entry becomes an `Entry`: its bytes and what the container says about them
(web address, fetch time, a declared date), or a `Rejected` failure with a reason.

Names (`source_uri`): every document has one name of its own, the same on every run over the same bytes.
An entry is named `container-uri#id`: the WARC-Record-ID (`record-N`, its place among the file's page
records, when it has none), `line-N` for JSON Lines, the member path for archives. An id met again in the
same container (two members of one name in an appended tar, WARC records sharing an ID, a zip directory
naming one entry twice) gets `~2`, `~3`... in reading order (`#a.txt~2`); a suffixed id that
is taken too moves on (`#a.txt~2~2`). The first `#` of a name always starts the entry id: in the file's
own URI `#` is written `%23`, and `%` is written `%25` where `23` or `25` follow it (nothing else changes),
so a plain file named `x.zip#a.txt` is `x.zip%23a.txt` and never takes the name of `x.zip`'s member
`a.txt`. `file_of` turns a name back into its file's URI. A container's own reject is named by the file
(`#unread` when a WARC damaged from its first byte took that name), a damaged stretch of a WARC by its
byte offset (`#offset-N`).

What is not a document is skipped and counted, not rejected: WARC request, metadata and warcinfo
records, archive folders. What is a document but cannot be one is rejected with a reason: a WARC
response that is not a page (an image), an HTTP error or redirect, an archive member that is a link,
has an unsafe path or is larger than the limit (a zip bomb stops at the limit as it streams).

A bad entry is one reject and the rest of the container is read: a JSON line that cannot be decoded (a
lone surrogate escape, nesting thousands deep), a zip member that cannot be read or whose bytes are
another entry's (read once: a zip bomb's trick), a WARC record whose Content-Length lies or that the
file's end cuts short. A damaged stretch of a WARC is one reject named by its byte offset
(`#offset-N`), and reading goes on at the next record (gzip member or "WARC/1." line). A zip member's
date is kept only when it is a date. A container that breaks otherwise keeps the entries read before the
break and adds a reject for itself; a tar member over the limit is skipped by reading through it, up to
`SKIP_LIMIT_FACTOR` times the limit per archive, past which the archive is not read further (a reject
says which member stopped it).
"""
from __future__ import annotations

import bz2
import dataclasses
import datetime as dt
import functools
import gzip
import itertools
import json
import lzma
import posixpath
import re
import stat
import tarfile
import zipfile
import zlib
from collections.abc import Iterator

import fsspec
from fsspec.compression import compr
from fsspec.utils import infer_compression

from transforms import metrics
from transforms.metrics import counter
from transforms.routing import Rejected

WARC_SUFFIXES = (".warc", ".warc.gz", ".warc.zst", ".warc.lz4")
ARC_SUFFIXES = (".arc", ".arc.gz")
JSONL_SUFFIXES = (".jsonl", ".ndjson", ".jsonl.gz", ".jsonl.bz2", ".jsonl.xz", ".jsonl.zst", ".ndjson.gz")
ZIP_SUFFIXES = (".zip",)
TAR_SUFFIXES = (".tar", ".tar.gz", ".tgz", ".tar.bz2", ".tbz2", ".tar.xz", ".txz")
PAGE_MEDIA_TYPES = ("text/html", "application/xhtml+xml", "text/plain")
READ_CHUNK = 1 << 20
STREAM_COMPRESSIONS = frozenset({"gzip", "bz2", "xz", "lzma", "zstd"})
# A tar member over the limit is skipped by reading (decompressing) through it: in all, at most this many
# times the limit per archive. One more ends the archive: skipping 4 GiB of bz2 zeros is minutes of work.
SKIP_LIMIT_FACTOR = 4
# A WARC that breaks is read again from its next record; a file that breaks more often than this is
# not read further (a file of nothing but false record starts would otherwise cost a pass each).
WARC_MAX_RESTARTS = 1000
# Zero bytes a tar may hold in a row beyond the document limit (its end blocks and record padding).
TAR_PADDING = 1 << 20
WARC_MAX_HEADER = 64 << 10
# JSON Lines fields newsflow reads, and the field names it expects unless --jsonl-fields says otherwise.
JSONL_DEFAULT_FIELDS = {"text": "text", "html": "html", "url": "url", "date": "date", "title": "title"}


@dataclasses.dataclass
class Entry:
    """One document inside a container, or the reason it cannot be read."""

    uri: str  # container URI + "#" + the entry's id
    data: bytes = b""
    content_type: str | None = None  # "html" or "text" when the container says, else sniffed later
    url: str | None = None  # the web address the page was fetched from
    fetched_at: dt.datetime | None = None
    declared_date: dt.date | None = None  # a publication date the export states
    charset: str | None = None  # the encoding the server declared
    modified_at: dt.datetime | None = None  # an archive member's own modification time
    failure: Rejected | None = None


def stream_compression(uri: str) -> str | None:
    """The stream compression a file's name announces (gz, bz2, xz, zst, lzma). Not zip and tar, which
    are archives of many documents: fsspec would read a zip's first member and silently skip the rest."""
    compression = infer_compression(uri.lower())
    return compression if compression in STREAM_COMPRESSIONS else None


def container_kind(uri: str) -> str | None:
    """'warc', 'arc', 'jsonl', 'zip' or 'tar' by the file name; None for a single-document file."""
    name = uri.lower().split("?", 1)[0]
    for kind, suffixes in (("warc", WARC_SUFFIXES), ("arc", ARC_SUFFIXES), ("jsonl", JSONL_SUFFIXES),
                           ("zip", ZIP_SUFFIXES), ("tar", TAR_SUFFIXES)):
        if name.endswith(suffixes):
            return kind
    return None


_FILE_URI_ESCAPES = re.compile(r"#|%(?=2[35])")
_FILE_URI_ESCAPED = re.compile(r"%2[35]")


def document_uri(file_uri: str, entry_id: str | None = None) -> str:
    """The name of a file's document (`entry_id` None) or of one entry of a container file: the file's URI
    with `#` written %23 (and a `%` before 23 or 25 written %25, so that no two files share a name), then
    "#" and the entry's id. Most names have neither and are their file's URI unchanged."""
    escaped = _FILE_URI_ESCAPES.sub(lambda match: "%23" if match[0] == "#" else "%25", file_uri)
    return escaped if entry_id is None else f"{escaped}#{entry_id}"


def file_of(uri: str) -> str:
    """The URI of the file a document name (`document_uri`) comes from."""
    return _FILE_URI_ESCAPED.sub(lambda match: "#" if match[0] == "%23" else "%", uri.split("#", 1)[0])


class StopReading(Exception):
    """A container that is not read further, for a reason a person understands (not a breakage)."""

    def __init__(self, reason: str, detail: str):
        super().__init__(reason)
        self.rejected = Rejected(reason, detail)


def read_entries(uri: str, openable: str, max_bytes: int, jsonl_fields: dict[str, str] | None = None) -> Iterator[Entry]:
    """Every entry of a container file, each under a name of its own; a container that fails mid-way ends
    with a reject for itself (named `#unread` when a reader has given the file's own name already)."""
    kind = container_kind(uri)
    name = document_uri(uri)
    fields = {**JSONL_DEFAULT_FIELDS, **(jsonl_fields or {})}
    readers = {"warc": _warc_entries, "arc": _arc_entries, "jsonl": functools.partial(_jsonl_entries, fields=fields),
               "zip": _zip_entries, "tar": _tar_entries}
    seen: set[str] = set()
    try:
        with fsspec.open(openable, "rb") as stream:
            for entry in readers[kind](name, stream, max_bytes):
                yield _named_once(entry, seen)
    except StopReading as stop:
        yield _named_once(Entry(_rest_of(name, seen), failure=stop.rejected), seen)
        return
    except BaseException as error:  # a broken container is a reject, whatever broke (a Rust panic too)
        if _not_breakage(error):
            raise
        yield _named_once(Entry(_rest_of(name, seen), failure=Rejected(
            f"{_KIND_NAMES[kind]} is corrupt or truncated, or the store failed while sending it: "
            f"{len(seen)} documents were read before the error",
            f"{type(error).__name__}: {error}")), seen)
        return
    if not seen:
        yield Entry(name, failure=Rejected(f"{_KIND_NAMES[kind]} holds no document",
                                           "no page, line or file inside it could be a document"))


def _not_breakage(error: BaseException) -> bool:
    """Whether an error is the process being stopped, not a file breaking. FastWARC's Rust panics
    (pyo3's PanicException) are no Exception, so readers catch BaseException and let these through."""
    return isinstance(error, (KeyboardInterrupt, SystemExit, GeneratorExit))


def _named_once(entry: Entry, seen: set[str]) -> Entry:
    """The entry, renamed `id~2`, `id~3`... when its id was met before in the container (in reading
    order: the same on every run)."""
    name, copy = entry.uri, 1
    while name in seen:
        copy += 1
        name = f"{entry.uri}~{copy}"
    seen.add(name)
    entry.uri = name
    return entry


def _rest_of(name: str, seen: set[str]) -> str:
    """The name of a container's own reject: the file's, unless a reader gave it already (a WARC damaged
    from its first byte)."""
    return f"{name}#unread" if name in seen else name


def _entry_or_reject(uri: str, make, reason: str) -> Entry:
    """`make()`, or a reject of this one entry when it fails: its neighbours are still read."""
    try:
        return make()
    except StopReading:
        raise
    except BaseException as error:  # a bad entry is one reject, whatever broke in it
        if _not_breakage(error):
            raise
        return Entry(uri, failure=Rejected(reason, f"{type(error).__name__}: {str(error)[:300]}"))


_KIND_NAMES = {"warc": "WARC file", "arc": "ARC file", "jsonl": "JSON Lines file", "zip": "zip archive",
               "tar": "tar archive"}


def read_limited(stream, max_bytes: int) -> bytes:
    """At most max_bytes + 1 bytes (one more than the limit tells that the entry is too large), read in
    chunks: one read(max_bytes + 1) call allocates the whole limit for every document (1.6x slower)."""
    chunks, size = [], 0
    while size <= max_bytes:
        chunk = stream.read(min(READ_CHUNK, max_bytes + 1 - size))
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    return b"".join(chunks)


def too_large(max_bytes: int) -> Rejected:
    return Rejected(f"document larger than the limit of {max_bytes} bytes (--max-document-bytes)",
                    f"more than {max_bytes} bytes after decompression")


# ---------------------------------------------------------------------------------------------
# Web archives
# ---------------------------------------------------------------------------------------------


def _warc_entries(uri: str, stream, max_bytes: int) -> Iterator[Entry]:
    """Response and resource records of a WARC file (FastWARC: gzip or zstd per record, detected).

    A plain or gzipped WARC that breaks mid-way is read again from its next record: the next gzip member
    (crawlers compress each record alone) or the next "WARC/1." line. A record whose Content-Length is
    wrong, or which the file's end cuts short, is a reject; a stretch that cannot be read at all is one
    reject named by its byte offset (`#offset-N`).
    """
    head = stream.read(6)
    layout = "gzip" if head.startswith(b"\x1f\x8b") else "plain" if head.startswith(b"WARC/") else None
    if layout is None or not stream.seekable():  # zstd, lz4: read once, a break ends the file
        stream = stream if _rewound(stream) else _Rejoined(head, stream)
        yield from _warc_pass(uri, stream, max_bytes, itertools.count(1))
        return
    numbers, start, damaged, restarts = itertools.count(1), 0, False, 0
    while start is not None:
        restarts += 1
        if restarts > WARC_MAX_RESTARTS:
            raise StopReading(f"WARC file too damaged: read again from {WARC_MAX_RESTARTS} places, not further",
                              f"the last at byte {start}")
        stream.seek(start)
        start, damaged = yield from _warc_pass(uri, stream, max_bytes, numbers, layout, start, damaged)


def _rewound(stream) -> bool:
    if not stream.seekable():
        return False
    stream.seek(0)
    return True


@dataclasses.dataclass
class _Read:
    """A record read, held back until the next one shows whether its length was right."""

    entry: Entry
    start: int  # where it begins in the file: its gzip member, or its first byte
    declared: int  # its Content-Length


def _warc_pass(uri: str, stream, max_bytes: int, numbers, layout: str | None = None, start: int = 0,
               damaged: bool = False):
    """The records from `start` on (`layout` None: a stream read once, without reading again after a
    break); returns (where to read again or None, whether the pass ended in damage)."""
    from fastwarc.stream_io import GzipReader
    from fastwarc.warc import ArchiveIterator, WarcRecordType

    reader = GzipReader(stream) if layout == "gzip" else stream
    # Request, metadata and warcinfo records are not documents: the reader skips them in Rust.
    wanted = WarcRecordType.response | WarcRecordType.resource | WarcRecordType.revisit
    records = ArchiveIterator(reader, record_types=wanted, parse_http=True, auto_decode="all")
    held: _Read | None = None
    while True:
        try:
            record = next(records)
        except StopIteration:
            return (yield from _at_the_end(stream, layout, held))
        except BaseException as error:
            if layout is None or _not_breakage(error):
                if held:
                    yield held.entry
                raise
            return (yield from _after_break(uri, stream, layout, start, held, reader, error, damaged))
        if held:
            yield held.entry
        position = reader.frame_start_position() if layout == "gzip" else record.stream_pos
        number = next(numbers)
        entry_uri = f"{uri}#{record.record_id or f'record-{number}'}"
        try:
            entry = _warc_record_entry(entry_uri, record, max_bytes)
        except BaseException as error:  # its bytes are broken: this record is the reject
            if layout is None or _not_breakage(error):
                raise
            yield Entry(entry_uri, failure=Rejected("WARC record is damaged: its text cannot be read",
                                                    f"{type(error).__name__}: {error}"))
            return _next_record(stream, layout, position), True
        if layout == "gzip" and reader.frame_start_position() != position:
            # Its Content-Length took it into the next record's member: read again from that member.
            yield _length_mismatch(entry)
            return _record_after(stream, layout, position), False
        held = _Read(entry, position, _content_length(record))


def _at_the_end(stream, layout: str | None, held: _Read | None):
    """The last record of a pass: whole, cut short by the file's end, or (plain) with a Content-Length
    that swallowed the records after it (read again from the next)."""
    if held is None:
        return None, False
    if not layout or not _cut_off(stream, layout, held):
        yield held.entry
        return None, False
    after = _next_record(stream, layout, held.start) if layout == "plain" else None
    yield _length_mismatch(held.entry) if after else _cut_short(held.entry)
    return after, False


def _after_break(uri, stream, layout, start, held, reader, error, damaged):
    """What a break in a pass costs: the record before it when its length was wrong, or the stretch that
    cannot be read; returns where to read again."""
    broken_at = reader.frame_start_position() if layout == "gzip" else None
    read_up_to = held.start if held else start
    if broken_at is not None and broken_at > read_up_to:  # a later gzip member: read again from it
        if held:
            yield held.entry
        return broken_at, False
    framing = "decompress" not in str(error).lower()
    if held and framing and not _ends_where_declared(stream, layout, held):
        yield _length_mismatch(held.entry)
        return _record_after(stream, layout, held.start), False
    if held:
        yield held.entry
        broken_at = _block_end(stream, held) if layout == "plain" else held.start
    broken_at = start if broken_at is None else broken_at
    if not damaged:  # a stretch of damage is one reject, however many false starts it holds
        yield _damaged_stretch(uri, broken_at, error)
    return _next_record(stream, layout, broken_at), True


def _damaged_stretch(uri: str, offset: int, error: BaseException) -> Entry:
    """The reject of a stretch of a WARC that cannot be read: named by its offset, or, from the file's
    first byte, the file itself (the records found after it are read)."""
    detail = f"from byte {offset}: {type(error).__name__}: {error}"
    if offset == 0:
        return Entry(uri, failure=Rejected("WARC file could not be read from its start (damaged, or not a "
                                           "WARC file): the records found after the damage are read", detail))
    return Entry(f"{uri}#offset-{offset}", failure=Rejected(
        "WARC data could not be read here (damaged): skipped to the next record", detail))


def _warc_record_entry(uri: str, record, max_bytes: int) -> Entry:
    from fastwarc.warc import WarcRecordType

    is_http = record.is_http
    return _web_entry(
        uri=uri,
        kind="revisit" if record.record_type == WarcRecordType.revisit else "response",
        url=record.headers.get("WARC-Target-URI"),
        fetched_at=record.record_date,
        status=record.http_headers.status_code if is_http else 200,
        media_type=(record.http_content_type if is_http else record.headers.get("Content-Type")) or "",
        charset=record.http_charset if is_http else None,
        payload=lambda: read_limited(record.reader, max_bytes),
        max_bytes=max_bytes,
    )


def _content_length(record) -> int:
    try:
        return int(record.headers.get("Content-Length") or 0)
    except ValueError:
        return 0


def _length_mismatch(entry: Entry) -> Entry:
    return dataclasses.replace(entry, data=b"", failure=Rejected(
        "WARC record's Content-Length does not match its content: its text ends early or runs into the next "
        "record", "the records after it are read"))


def _cut_short(entry: Entry) -> Entry:
    return dataclasses.replace(entry, data=b"", failure=Rejected(
        "WARC record is cut short: the file ends inside it (an interrupted download or copy?)",
        "its text would be incomplete"))


def _cut_off(stream, layout: str, held: _Read) -> bool:
    """Whether the file ends inside the last record: before its declared length, or inside its gzip member."""
    if layout == "plain":
        end = _block_end(stream, held)
        return end is None or end > stream.seek(0, 2)
    end, head, size = _gzip_member(stream, held.start)
    blank = head.find(b"\r\n\r\n")
    return end is None or blank < 0 or size < blank + 4 + held.declared


def _gzip_member(stream, start: int) -> tuple[int | None, bytes, int]:
    """The gzip member at `start`: where it ends (None when the file ends first or its data is broken),
    the first bytes of its text (a record's header) and its text's size. Bounded memory: the text is
    not kept."""
    stream.seek(start)
    inflater, head, size, read = zlib.decompressobj(31), b"", 0, 0
    while not inflater.eof:
        chunk = inflater.unconsumed_tail
        if not chunk:
            chunk = stream.read(READ_CHUNK)
            read += len(chunk)
        if not chunk:
            return None, head, size
        try:
            text = inflater.decompress(chunk, READ_CHUNK)
        except zlib.error:
            return None, head, size
        head += text[:max(0, WARC_MAX_HEADER - len(head))]
        size += len(text)
    return start + read - len(inflater.unused_data) - len(inflater.unconsumed_tail), head, size


def _record_after(stream, layout: str, start: int) -> int | None:
    """Where the record after the one at `start` begins: the end of its gzip member when the member is
    whole (a gzip header inside its data would be a false start), else the next record start found."""
    if layout == "gzip":
        end, _, _ = _gzip_member(stream, start)
        if end is not None:
            return end if end < stream.seek(0, 2) else None
    return _next_record(stream, layout, start)


def _block_end(stream, held: _Read) -> int | None:
    """Where a plain WARC record's block ends by its Content-Length (after its header's blank line); None
    when its header has no end."""
    stream.seek(held.start)
    head = stream.read(WARC_MAX_HEADER)
    blank = head.find(b"\r\n\r\n")
    return None if blank < 0 else held.start + blank + 4 + held.declared


def _ends_where_declared(stream, layout: str, held: _Read) -> bool:
    """Whether a record is followed, where its Content-Length says, by a blank line and the next record."""
    if layout != "plain":
        return False  # a gzip record that ran on is told by its member (`_warc_pass`)
    end = _block_end(stream, held)
    if end is None:
        return False
    stream.seek(end)
    after = stream.read(9)
    return after[:4] == b"\r\n\r\n" and (after[4:] == b"WARC/" or not after[4:])


_RECORD_STARTS = {"gzip": b"\x1f\x8b\x08", "plain": b"WARC/1."}


def _next_record(stream, layout: str, after: int) -> int | None:
    """The offset of the next gzip member or "WARC/1." line after `after`; None when there is none."""
    mark = _RECORD_STARTS[layout]
    position = after + 1
    stream.seek(position)
    carry = b""
    while True:
        chunk = stream.read(READ_CHUNK)
        if not chunk:
            return None
        found = (carry + chunk).find(mark)
        if found >= 0:
            return position - len(carry) + found
        position += len(chunk)
        carry = (carry + chunk)[-(len(mark) - 1):]


def _arc_entries(uri: str, stream, max_bytes: int) -> Iterator[Entry]:
    """Records of a legacy ARC file (warcio reads ARC; FastWARC does not)."""
    from warcio.archiveiterator import ArchiveIterator

    number = 0
    for record in ArchiveIterator(stream, arc2warc=True):
        if record.rec_type not in ("response", "resource", "revisit"):
            counter(metrics.READ_WARC_RECORDS_SKIPPED).inc()
            continue
        number += 1
        headers = record.http_headers
        fetched = record.rec_headers.get_header("WARC-Date")
        yield _web_entry(
            uri=f"{uri}#{record.rec_headers.get_header('WARC-Record-ID') or f'record-{number}'}",
            kind=record.rec_type,
            url=record.rec_headers.get_header("WARC-Target-URI"),
            fetched_at=dt.datetime.fromisoformat(fetched.replace("Z", "+00:00")) if fetched else None,
            status=int(headers.get_statuscode() or 0) if headers else 200,
            media_type=(headers.get_header("Content-Type") if headers else record.content_type) or "",
            charset=None,
            payload=lambda r=record: read_limited(r.content_stream(), max_bytes),
            max_bytes=max_bytes,
        )


def _web_entry(*, uri, kind, url, fetched_at, status, media_type, charset, payload, max_bytes) -> Entry:
    entry = Entry(uri, url=url, fetched_at=fetched_at, charset=charset)
    media_type = media_type.split(";", 1)[0].strip().lower()
    if kind == "revisit":
        entry.failure = Rejected("WARC revisit record: the crawler kept no copy of this page",
                                 "the page was unchanged since an earlier capture, which is in another record")
    elif 300 <= status < 400:
        entry.failure = Rejected(f"HTTP redirect ({status}): the response holds no page", url or "")
    elif status != 200:
        entry.failure = Rejected(f"HTTP error ({status}): the response holds no page", url or "")
    elif media_type and media_type not in PAGE_MEDIA_TYPES:
        entry.failure = Rejected("WARC response is not a web page", f"its content type is {media_type}")
    else:
        entry.data = payload()
        entry.content_type = "text" if media_type == "text/plain" else "html"
        if len(entry.data) > max_bytes:
            entry.failure, entry.data = too_large(max_bytes), b""
    return entry


# ---------------------------------------------------------------------------------------------
# JSON Lines exports
# ---------------------------------------------------------------------------------------------


def _jsonl_entries(uri: str, stream, max_bytes: int, fields: dict[str, str]) -> Iterator[Entry]:
    """One document per line: an HTML or text field, with an optional web address, date and title."""
    for number, line in enumerate(_bounded_lines(_decompressed(uri, stream), max_bytes), start=1):
        if line is None:
            yield Entry(f"{uri}#line-{number}", failure=too_large(max_bytes))
        elif line.strip():
            yield _entry_or_reject(f"{uri}#line-{number}", functools.partial(_jsonl_entry, f"{uri}#line-{number}",
                                                                             line, fields),
                                   "line could not be read as a document")


def _bounded_lines(stream, max_bytes: int) -> Iterator[bytes | None]:
    """The lines of a stream; None for a line longer than max_bytes, skipped as it streams. Reads chunks
    (not readline(size): object-store files do not take a size), so memory stays under the limit."""
    pending, too_long = b"", False
    while True:
        chunk = stream.read(READ_CHUNK)
        pending += chunk
        *lines, pending = pending.split(b"\n") if chunk else (*pending.split(b"\n"), b"")
        for line in lines:
            yield None if too_long or len(line) > max_bytes else line
            too_long = False
        if len(pending) > max_bytes:  # a line over the limit: drop what was read of it, go on to its end
            pending, too_long = b"", True
        if not chunk:
            return


def _jsonl_entry(uri: str, line: bytes, fields: dict[str, str]) -> Entry:
    try:
        record = json.loads(line)
    except RecursionError:
        return Entry(uri, failure=Rejected("line is nested too deeply to read (arrays or objects inside each "
                                           "other thousands of levels deep)", f"{len(line)} bytes"))
    except ValueError as error:
        return Entry(uri, failure=Rejected("line is not valid JSON", str(error)[:200]))
    if not isinstance(record, dict):
        return Entry(uri, failure=Rejected("line is not a JSON object", f"it is a {type(record).__name__}"))

    def field(name: str) -> str | None:
        value = record.get(fields[name])
        return value if isinstance(value, str) and value.strip() else None

    html, text = field("html"), field("text")
    if not html and not text:
        return Entry(uri, failure=Rejected(
            "line has no text: neither its text nor its html field is filled",
            f"expected a field {fields['text']!r} or {fields['html']!r} (map others with --jsonl-fields)"))
    try:
        if html:
            data, content_type = html.encode(), "html"
        else:
            # A text export's title goes first, as the title line of a text page.
            title = field("title")
            data, content_type = (f"{title}\n\n{text}" if title else text).encode(), "text"
    except UnicodeEncodeError as error:  # JSON may escape half of a UTF-16 pair ("\ud800"): no character
        return Entry(uri, failure=Rejected("line holds text that is not valid Unicode (a lone surrogate "
                                           "escape such as \\ud800)", str(error)[:200]))
    return Entry(uri, data=data, content_type=content_type, url=field("url"), charset="utf-8",
                 declared_date=declared_date(record.get(fields["date"])))


def declared_date(value) -> dt.date | None:
    """The day of an export's date field: ISO 8601 text ("2024-03-02", "2024-03-02T10:00:00Z") or an
    epoch in seconds or milliseconds; None for anything else (a wrong field is no evidence)."""
    try:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            seconds = value / 1000 if value > 1e11 else value
            return dt.datetime.fromtimestamp(seconds, dt.timezone.utc).date()
        if isinstance(value, str) and value.strip():
            return dt.datetime.fromisoformat(value.strip().replace("Z", "+00:00")).date()
    except (ValueError, OverflowError, OSError):
        return None
    return None


# ---------------------------------------------------------------------------------------------
# Archives
# ---------------------------------------------------------------------------------------------


def unsafe_member_path(name: str) -> bool:
    """An absolute path or one that climbs out ("../"): made to write outside a folder when extracted."""
    normal = posixpath.normpath(name.replace("\\", "/"))
    return name.startswith(("/", "\\")) or (len(name) > 1 and name[1] == ":") or normal.split("/", 1)[0] == ".."


def _member_failure(name: str, size: int, max_bytes: int) -> Rejected | None:
    if unsafe_member_path(name):
        return Rejected("archive member with an unsafe path (absolute or '../'): not read",
                        "such paths are made to write outside a folder when unpacked")
    if container_kind(name):
        return Rejected("archive inside an archive: not opened", "unpack the outer archive into the dump")
    if size > max_bytes:
        return too_large(max_bytes)
    return None


def _decompressed(name: str, stream):
    """The stream, decompressed when its name says gz, bz2, xz or zst."""
    compression = stream_compression(name)
    return compr[compression](stream, mode="rb") if compression else stream


def _member_entry(uri: str, name: str, size: int, open_member, max_bytes: int, modified) -> Entry:
    """One archive member: its bytes, or the reason it is not read."""
    failure = _member_failure(name, size, max_bytes)
    if failure:
        return Entry(uri, failure=failure)
    with open_member() as stream:
        data = read_limited(_decompressed(name, stream), max_bytes)
    if len(data) > max_bytes:  # a declared size can lie (a zip bomb): the bytes read say the truth
        return Entry(uri, failure=too_large(max_bytes))
    return Entry(uri, data=data, modified_at=modified)


def _link_failure(target: str) -> Rejected:
    return Rejected("symbolic link inside an archive: not followed", f"it points at {target!r}")


def _zip_entries(uri: str, stream, max_bytes: int) -> Iterator[Entry]:
    with zipfile.ZipFile(stream) as archive:
        data_ends = _zip_data_ends(archive)
        read_at: set[int] = set()  # the local entries read: a directory may point many entries at one
        for info in archive.infolist():
            if info.is_dir():
                continue
            member_uri = f"{uri}#{info.filename}"
            yield _entry_or_reject(member_uri, functools.partial(
                _zip_entry, archive, info, member_uri, max_bytes, data_ends, read_at), _UNREADABLE_MEMBER)


def _zip_entry(archive, info: zipfile.ZipInfo, uri: str, max_bytes: int, data_ends: dict[int, int],
               read_at: set[int]) -> Entry:
    if info.header_offset in read_at or _zip_data_end(info) > data_ends[info.header_offset]:
        # Entries sharing or overlapping their bytes: a zip bomb's trick to be many times the limit.
        return Entry(uri, failure=Rejected("zip entry shares its bytes with another entry: not read again",
                                           f"its data starts at byte {info.header_offset}"))
    read_at.add(info.header_offset)
    if stat.S_ISLNK(info.external_attr >> 16):  # a link stores its target as its content
        with archive.open(info) as link:
            return Entry(uri, failure=_link_failure(link.read(200).decode(errors="replace")))
    if info.flag_bits & 0x1:
        return Entry(uri, failure=Rejected("encrypted archive member: it cannot be read", ""))
    return _member_entry(uri, info.filename, info.file_size, functools.partial(archive.open, info), max_bytes,
                         _zip_time(info))


def _zip_data_ends(archive: zipfile.ZipFile) -> dict[int, int]:
    """Where each local entry's bytes must end: at the next entry's start, or the central directory."""
    starts = sorted({info.header_offset for info in archive.infolist()} | {archive.start_dir})
    return dict(zip(starts, starts[1:] + [archive.start_dir]))


def _zip_data_end(info: zipfile.ZipInfo) -> int:
    """The least end of an entry's bytes (its local header's extra field may make it longer)."""
    name = info.orig_filename.encode("utf-8" if info.flag_bits & 0x800 else "cp437", errors="replace")
    return info.header_offset + 30 + len(name) + info.compress_size


_UNREADABLE_MEMBER = "archive member could not be read (damaged, or its header disagrees with the directory)"


def _zip_time(info: zipfile.ZipInfo) -> dt.datetime | None:
    """A member's modification time; None when its DOS date is no date (zero month or day)."""
    try:
        return dt.datetime(*info.date_time, tzinfo=dt.timezone.utc)
    except ValueError:
        return None


def _tar_entries(uri: str, stream, max_bytes: int) -> Iterator[Entry]:
    # "r|": a forward-only stream (no seeks: works the same on object stores). The decompression is ours:
    # tarfile's own ("r|*") copies its whole buffer on every block read, quadratic for a bomb's members.
    # ignore_zeros: archives joined with `cat` are read whole (`tar -i`), not up to the first one's end.
    skip_budget = SKIP_LIMIT_FACTOR * max_bytes
    stream = _ZeroRunLimit(_tar_decompressed(stream), max_bytes + TAR_PADDING)
    with tarfile.open(fileobj=stream, mode="r|", ignore_zeros=True) as archive:
        for member in archive:
            if member.isdir():
                continue
            member_uri = f"{uri}#{member.name}"
            if member.issym() or member.islnk():
                yield Entry(member_uri, failure=_link_failure(member.linkname))
            elif not member.isfile():
                yield Entry(member_uri, failure=Rejected("special file inside an archive (device or pipe): not read", ""))
            else:
                if member.size > max_bytes:
                    skip_budget -= member.size
                yield _entry_or_reject(member_uri, functools.partial(
                    _member_entry, member_uri, member.name, member.size, functools.partial(archive.extractfile, member),
                    max_bytes, _tar_time(member)), _UNREADABLE_MEMBER)
                if skip_budget < 0:
                    raise StopReading(
                        f"tar archive not read past a member too large to skip (over {SKIP_LIMIT_FACTOR} times "
                        f"--max-document-bytes in all): the members after it are not read",
                        f"{member.name!r} holds {member.size} bytes")


def _tar_time(member: tarfile.TarInfo) -> dt.datetime | None:
    try:
        return dt.datetime.fromtimestamp(member.mtime, dt.timezone.utc) if member.mtime else None
    except (ValueError, OverflowError, OSError):
        return None


_TAR_COMPRESSIONS = ((b"\x1f\x8b", gzip.GzipFile), (b"BZh", bz2.BZ2File), (b"\xfd7zXZ\x00", lzma.LZMAFile))


def _tar_decompressed(stream):
    """The tar stream, decompressed (gzip, bz2 or xz, told by its first bytes) by readers that never
    produce more than is asked of them."""
    head = stream.read(6)
    stream = _Rejoined(head, stream)  # no seek back: a store's stream may not seek
    for magic, reader in _TAR_COMPRESSIONS:
        if head.startswith(magic):
            return reader(fileobj=stream) if reader is gzip.GzipFile else reader(stream)
    return stream


class _ZeroRunLimit:
    """A stream that stops (`StopReading`) after `limit` zero bytes in a row: past its end blocks a tar
    is read on (archives joined with cat), and gigabytes of zeros there would be read 512 bytes at a time.
    A member read is at most the document limit, below `limit`."""

    def __init__(self, stream, limit: int):
        self._stream, self._limit, self._zeros = stream, limit, 0

    def read(self, size: int = -1) -> bytes:
        data = self._stream.read(size)
        rest = data.rstrip(b"\0")
        self._zeros = self._zeros + len(data) if not rest else len(data) - len(rest)
        if self._zeros > self._limit:
            raise StopReading("tar archive not read further: it goes on with a long run of zero bytes (padding "
                              "past its end, or a bomb)", f"more than {self._limit} zero bytes in a row")
        return data


class _Rejoined:
    """A stream whose first bytes were read already: they come first again."""

    def __init__(self, head: bytes, stream):
        self._head, self._stream = head, stream

    def read(self, size: int = -1) -> bytes:
        if not self._head:
            return self._stream.read(size)
        head = self._head if size < 0 else self._head[:size]
        self._head = self._head[len(head):]
        rest = self._stream.read(-1 if size < 0 else size - len(head)) if size < 0 or size > len(head) else b""
        return head + rest
