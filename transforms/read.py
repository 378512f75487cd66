"""Read a dump: expand input paths/globs with fsspec, read each file, decode it into a Document.

Beam has no fsspec support, so globbing and reading happen in DoFns; a shuffle between the two spreads
the files over the workers and drops a file named twice by overlapping inputs. An ingest run lists its
inputs on the driver first (to skip what the manifest says is unchanged) and hands the listed files in.
Every file read also yields a manifest row: what it was (size, version, content hash) and how many
documents it held.
"""
from __future__ import annotations

import codecs
import dataclasses
import datetime as dt
import hashlib
import os
import posixpath
import re
import stat
from typing import NamedTuple

import apache_beam as beam
import charset_normalizer
import fsspec
import ftfy

from schemas.records import Document
from storage.layout import filesystem
from transforms import metrics
from transforms.containers import (
    Entry,
    container_kind,
    document_uri,
    read_entries,
    read_limited,
    stream_compression,
    too_large,
)
from transforms.identity import content_id
from transforms.metrics import counter
from transforms.redact import public_uri, redact_text
from transforms.routing import REJECTS, Rejected, RejectRoute

STAGE = metrics.READ
MOJIBAKE_REPAIRED = ", mojibake repaired (ftfy)"  # added to the `encoding` of a repaired document
FROM_CONTAINERS = "from_containers"  # documents of WARC files and archives: one file, many documents
MANIFEST = "manifest"  # one row per file read, for the manifest of processed inputs
DEFAULT_MAX_DOCUMENT_BYTES = 64 * 1024 * 1024  # decompressed; a bigger file is not a news article
HTML_SUFFIXES = (".html", ".htm", ".xhtml", ".shtml")
# Sniffing: this many leading bytes decide whether a file is binary or HTML.
SNIFF_BYTES = 4096
# A text file has almost no control characters; past this share of the sniffed bytes it is binary.
MAX_CONTROL_CHAR_SHARE = 0.05
_TEXT_CONTROLS = {0x09, 0x0A, 0x0C, 0x0D, 0x1B}

# Reject reasons of inputs that were named but are not there (any more): a run that read only these
# read nothing (pipelines/summary.py `read_nothing`).
INPUT_NOT_FOUND = "input not found: no file or directory matches this path"
INPUT_NOT_LISTED = "input could not be listed"
FILE_DISAPPEARED = "file disappeared or is a broken link"
VANISHED_REASONS = (INPUT_NOT_FOUND, INPUT_NOT_LISTED, FILE_DISAPPEARED)

_MAGIC_NUMBERS = (
    (b"\x89PNG", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF8", "a GIF image"),
    (b"%PDF", "a PDF document"),
    (b"PK\x03\x04", "a zip archive"),
    (b"\x7fELF", "an executable (ELF)"),
    (b"MZ", "a Windows executable"),
    (b"\x1f\x8b", "gzip data inside a file without a .gz name"),
    (b"RIFF", "a RIFF media file"),
    (b"\x00\x00\x00\x18ftyp", "an MP4 video"),
    (b"\x00\x00\x00\x20ftyp", "an MP4 video"),
)

_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)


# ---------------------------------------------------------------------------------------------
# Plain functions (tested without Beam)
# ---------------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class InputFile:
    """One file as the listing saw it: what the manifest compares between runs."""

    uri: str
    size: int | None = None
    version: str | None = None  # the store's ETag or generation, else the modification time
    refused: str | None = None  # why the file is not opened at all (a pipe, a link out of the input)
    location: str | None = None  # the address to open, when `uri` is it without its secrets (redact.py)


# Listing fields that change when a file's content changes, most telling first (S3, GCS, local, memory).
_VERSION_FIELDS = ("ETag", "etag", "generation", "md5Hash", "mtime", "LastModified", "updated", "created")


def file_version(info: dict) -> str | None:
    """The store's version of a file from its listing entry: ETag, generation, or modification time."""
    for field in _VERSION_FIELDS:
        if info.get(field) not in (None, ""):
            return str(info[field])
    return None


def list_input(pattern: str, exclude: str | None = None) -> list[InputFile]:
    """All files an input names, with size and version: a file, a directory (recursively), or a glob.

    Files under `exclude` (the run's own output folder, when it sits inside an input) are left out.
    """
    fs, path = input_fs(pattern)
    if is_local(fs):
        path = posixpath.normpath(path)  # "sub/../b.txt" is b.txt: one file, one name
    root = path
    if is_glob(path):
        root = posixpath.dirname(re.split(r"[*?\[]", path, maxsplit=1)[0])
        found = {}
        for match, info in fs.glob(path, detail=True).items():
            # A glob that matches a directory means the files inside it.
            found.update(fs.find(match, detail=True) if info.get("type") == "directory" else {match: info})
    elif fs.isfile(path):  # first: over HTTP, isdir() downloads the page to look for links
        found, root = {path: fs.info(path)}, None  # a file named by the user is theirs, link or not
    elif fs.isdir(path):
        found = fs.find(path, detail=True)
    else:
        raise Rejected(INPUT_NOT_FOUND, pattern)
    files = sorted((_input_file(fs, p, info, root) for p, info in found.items()), key=lambda file: file.uri)
    if exclude:
        excluded = absolute_uri(exclude).rstrip("/") + "/"
        files = [file for file in files if not file.uri.startswith(excluded)]
    return files


def _input_file(fs, path: str, info: dict, root: str | None) -> InputFile:
    uri = portable_uri(fs.unstrip_protocol(path))
    public = public_uri(uri)
    refused = _refusal(path, info, root) if is_local(fs) else None
    return InputFile(public, info.get("size"), file_version(info), refused, uri if public != uri else None)


def is_local(fs) -> bool:
    return "file" in fs.protocol if isinstance(fs.protocol, tuple) else fs.protocol in ("file", "local")


def _refusal(path: str, info: dict, root: str | None) -> str | None:
    """Why a listed local file must not be opened: a named pipe or device (reading one may block for
    ever), or a symbolic link leading out of the folder the user named (its target is not theirs to
    ingest). None for a regular file, or a link to one inside the input."""
    if not os.path.exists(path):
        return None  # gone, or a broken link: reading it says so (FILE_DISAPPEARED)
    if info.get("islink") and root is not None:
        target = os.path.realpath(path)
        inside = os.path.realpath(root if os.path.isdir(root) else os.path.dirname(root))
        if os.path.commonpath([target, inside]) != inside:
            return "symbolic link to a file outside the input: not followed"
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return None  # gone or a broken link: reading it says so (FILE_DISAPPEARED)
    if not stat.S_ISREG(mode):
        return "not a regular file (a named pipe, socket or device): not opened"
    return None


def is_glob(path: str) -> bool:
    return any(ch in path for ch in "*?[")


def input_exists(pattern: str) -> bool:
    """Whether an input names something that is there: a file or a folder (a glob may match files that
    arrive later, so it always counts). Raises what the store raises when it cannot be asked."""
    fs, path = input_fs(pattern)
    return is_glob(path) or fs.exists(path)


def expand_input(pattern: str, exclude: str | None = None) -> list[str]:
    """The URIs of `list_input`."""
    return [file.uri for file in list_input(pattern, exclude)]


def manifest_row(file: InputFile, document_ids: list[str]) -> dict:
    """What the manifest remembers of a file read: its listing, its content hash and document count.

    The content hash of a file that gave one document is that document's id (for a plain file, the
    SHA-256 prefix of its bytes); otherwise (a container, a rejected file) a hash of its documents' ids
    and reject reasons in reading order.
    """
    if len(document_ids) == 1 and document_ids[0].startswith("doc:"):
        content = document_ids[0][4:]
    else:
        content = hashlib.sha256("\n".join(document_ids).encode("utf-8", "surrogateescape")).hexdigest()[:32]
    return {"uri": file.uri, "size": file.size, "version": file.version, "content_hash": content,
            "documents": len(document_ids)}


# In local file names: an undecodable byte is written %80-%FF, and a real "%" that would read as such an
# escape (or as "%25") is written %25, so that two names never share a URI ("name-%E9.txt" and the name
# with the byte 0xE9 were one URI, and one of the files was lost).
_ESCAPE = re.compile(r"%(25|[89A-F][0-9A-F])")
_PERCENT_BEFORE_ESCAPE = re.compile(r"%(?=25|[89A-F][0-9A-F])")


def portable_uri(uri: str) -> str:
    """A local file name that is not valid UTF-8 (its undecodable bytes arrive as surrogates) with those
    bytes written %FF: every table, log and Beam coder can carry it, and `openable_uri` turns it back."""
    if not uri.startswith("file://"):
        return uri
    uri = _PERCENT_BEFORE_ESCAPE.sub("%25", uri)
    return "".join(f"%{ord(ch) - 0xDC00:02X}" if "\udc80" <= ch <= "\udcff" else ch for ch in uri)


def openable_uri(uri: str) -> str:
    """The name to open for a URI from `portable_uri`."""
    if not uri.startswith("file://") or "%" not in uri:
        return uri
    return _ESCAPE.sub(lambda match: "%" if match[1] == "25" else chr(0xDC00 + int(match[1], 16)), uri)


def input_fs(location: str):
    """(filesystem, path) of an input: fsspec's, except that a local name holding "::" is a local file,
    not a chain of filesystems ("a::b.txt" was read as the file "a")."""
    local = location.removeprefix("file://")
    if "::" in location and "://" not in local and os.path.lexists(local):
        return fsspec.filesystem("file"), os.path.abspath(local)
    return filesystem(location)


def absolute_uri(location: str) -> str:
    """The absolute URI of a path or URL: 'out' -> 'file:///home/me/out'."""
    fs, path = input_fs(location)
    return fs.unstrip_protocol(posixpath.normpath(path) if is_local(fs) else path)


def content_type_of(uri: str, head: bytes) -> str:
    """'html' for HTML pages (by name, or by content for files without a telling name), else 'text'."""
    name = uri.lower()
    if stream_compression(name):
        name = posixpath.splitext(name)[0]
    if name.endswith(HTML_SUFFIXES):
        return "html"
    start = head[:512].lstrip().lower()
    if start.startswith((b"<!doctype html", b"<html")):
        return "html"
    return "text"


def binary_kind(data: bytes) -> str | None:
    """What a file is when it is not text (e.g. 'a PNG image'), or None for text."""
    for magic, kind in _MAGIC_NUMBERS:
        if data.startswith(magic):
            return kind
    if any(data.startswith(bom) for bom, _ in _BOMS):
        return None  # UTF-16/32 text has many NUL bytes: the BOM says it is text
    head = data[:SNIFF_BYTES]
    if _bomless_utf16(head):
        return None
    # NUL and other control bytes: a few stray ones in a text (a scraper's glitch) are stripped later;
    # many are binary data.
    controls = sum(1 for b in head if b < 0x20 and b not in _TEXT_CONTROLS)
    if head and controls / len(head) > MAX_CONTROL_CHAR_SHARE:
        return "binary data (too many control characters)"
    return None


def _bomless_utf16(head: bytes) -> str | None:
    """The codec of UTF-16 text without a BOM (mostly-ASCII text has a NUL in every other byte)."""
    half = len(head) // 2
    if half == 0:
        return None
    if head[1::2].count(0) > 0.4 * half and head[0::2].count(0) < 0.05 * half:
        return "utf-16-le"
    if head[0::2].count(0) > 0.4 * half and head[1::2].count(0) < 0.05 * half:
        return "utf-16-be"
    return None


def decode_bytes(data: bytes, declared: str | None = None) -> tuple[str, str]:
    """Decode a text file; returns (text, encoding used, with how it was chosen).

    Order: a byte-order mark, then strict UTF-8 (most dumps), then the charset a web server `declared`
    (after UTF-8: servers often declare Latin-1 for UTF-8 pages), then charset-normalizer's detection.
    Never guesses silently: the second value records the decision and lands in the output.
    """
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            try:
                return data[len(bom):].decode(encoding), f"{encoding} (byte-order mark)"
            except UnicodeDecodeError as error:
                raise Rejected("undecodable bytes: the byte-order mark does not match the content",
                               str(error)) from None
    utf16 = _bomless_utf16(data[:SNIFF_BYTES])
    if utf16:
        try:
            return data.decode(utf16), f"{utf16} (no byte-order mark; told by its NUL bytes)"
        except UnicodeDecodeError:
            pass
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    if declared:
        try:
            return data.decode(declared), f"{declared} (declared by the server)"
        except (UnicodeDecodeError, LookupError):
            pass
    matches = list(charset_normalizer.from_bytes(data))
    if not matches:
        raise Rejected("undecodable bytes: no text encoding fits this file", f"{len(data)} bytes")
    # charset-normalizer's own best() can rank a candidate with more mess first (cp1250 over a clean
    # cp1252 for Spanish text): take the least chaotic, then the most coherent, decoding.
    best = min(matches, key=lambda match: (match.chaos, -match.coherence))
    return str(best), f"{best.encoding} (detected by charset-normalizer)"


def repair_mojibake(text: str) -> str:
    """Undo mojibake: text that an earlier tool decoded with the wrong codec and saved again (UTF-8 read as
    Latin-1 or cp1252: "cafÃ©" for "café"). ftfy finds the chain of codecs that explains it and leaves
    clean text as it is; it changes nothing else (no quote or width normalisation). ASCII text has none."""
    return text if text.isascii() else ftfy.fix_encoding(text)


def read_bytes(uri: str, max_bytes: int) -> bytes:
    """The (decompressed) bytes of a file; compression is inferred from the name (gz, bz2, xz, zst)."""
    try:
        fs, path = input_fs(openable_uri(uri))
        with fs.open(path, "rb", compression=stream_compression(uri)) as stream:
            data = read_limited(stream, max_bytes)
    except Exception as error:  # noqa: BLE001 - every store raises its own errors (aiohttp, botocore, gcsfs)
        raise Rejected(_read_failure_reason(uri, error), redact_text(f"{type(error).__name__}: {error}")) from None
    if len(data) > max_bytes:
        raise too_large(max_bytes)
    return data


def _read_failure_reason(uri: str, error: Exception) -> str:
    if stream_compression(uri) and isinstance(error, (EOFError, OSError, ValueError, RuntimeError)):
        return "corrupt or truncated compressed file: it could not be decompressed"
    if isinstance(error, PermissionError):
        return "file could not be read: permission denied"
    if isinstance(error, FileNotFoundError):
        return FILE_DISAPPEARED
    if not isinstance(error, (EOFError, OSError, ValueError)):
        return "file could not be read: the store failed while sending it (network or server error)"
    return "file could not be read"


def modified_time(uri: str) -> dt.datetime | None:
    """The file's modification time, when the store has one (used to resolve year-less dates)."""
    try:
        fs, path = input_fs(openable_uri(uri))
        modified = fs.modified(path)
    except Exception:  # noqa: BLE001 - many stores have no mtime; it is only a hint
        return None
    return modified if modified.tzinfo else modified.replace(tzinfo=dt.timezone.utc)


def read_document(uri: str, max_bytes: int = DEFAULT_MAX_DOCUMENT_BYTES, location: str | None = None) -> Document:
    """Read and decode one input file into a Document named `document_uri(uri)` (its URI, unless the name
    holds a `#`); raises Rejected with a reason if it cannot. `location`: the address to open when it is
    not `uri` (a signed URL)."""
    location = location or uri
    return document_from_bytes(document_uri(uri), read_bytes(location, max_bytes), modified_at=modified_time(location))


def document_from_bytes(uri: str, data: bytes, entry: Entry | None = None, modified_at=None) -> Document:
    """Decode one document's bytes (a file's, or a container entry's); raises Rejected if it is no text."""
    if not data:
        raise Rejected("empty file", "0 bytes")
    kind = binary_kind(data)
    if kind:
        raise Rejected("binary file, not text", f"it looks like {kind} ({len(data)} bytes)")
    text, encoding = decode_bytes(data, entry.charset if entry else None)
    repaired = repair_mojibake(text)
    if repaired != text:  # the copy a cluster keeps must not read "cafÃ©" where the others say "café"
        text, encoding = repaired, encoding + MOJIBAKE_REPAIRED
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if not text.strip():
        raise Rejected("empty file", f"it contains only whitespace ({len(data)} bytes)")
    return Document(
        doc_id=content_id(data),
        source_uri=uri,
        content_type=(entry and entry.content_type) or content_type_of(uri, data[:SNIFF_BYTES]),
        encoding=encoding,
        raw=text,
        modified_at=modified_at,
        url=entry.url if entry else None,
        fetched_at=entry.fetched_at if entry else None,
        declared_date=entry.declared_date if entry else None,
    )


def read_documents(
    uri: str, max_bytes: int = DEFAULT_MAX_DOCUMENT_BYTES, jsonl_fields: dict | None = None, location: str | None = None
):
    """(uri, Document or the Rejected error) for every document in a file: one for a plain file, one per
    entry for a container (WARC, JSON Lines, zip, tar). `location`: see `read_document`."""
    if not container_kind(uri):
        try:
            yield document_uri(uri), read_document(uri, max_bytes, location)
        except Rejected as error:
            yield document_uri(uri), error
        return
    modified_at = modified_time(location or uri)
    for entry in read_entries(uri, openable_uri(location or uri), max_bytes, jsonl_fields):
        if entry.failure:
            yield entry.uri, entry.failure
            continue
        try:
            yield entry.uri, document_from_bytes(entry.uri, entry.data, entry, entry.modified_at or modified_at)
        except Rejected as error:
            yield entry.uri, error


# ---------------------------------------------------------------------------------------------
# Beam
# ---------------------------------------------------------------------------------------------


class _ExpandFn(beam.DoFn):
    """An input pattern -> its files; a file the driver already listed passes through."""

    def __init__(self, exclude: str | None):
        self._exclude = exclude
        self._rejects = RejectRoute(STAGE, metrics.READ_INPUTS_UNLISTED)  # an input not listed: one reject row

    def process(self, element):
        if isinstance(element, InputFile):
            counter(metrics.READ_FILES_LISTED).inc()
            yield element
            return
        # A bad input path is a reject, not a crash.
        with self._rejects.attempt(public_uri(element), explain=_as_input_error) as attempt:
            files = list_input(element, self._exclude)
        if attempt.failed:
            yield attempt.output
            return
        counter(metrics.READ_FILES_LISTED).inc(len(files))
        yield from files


def _as_input_error(error: Exception) -> Exception:
    if isinstance(error, Rejected):
        return error
    return Rejected(INPUT_NOT_LISTED, f"{type(error).__name__}: {error}")


def _manifest_id(reject: beam.pvalue.TaggedOutput) -> str:
    """How a reject is remembered in its file's manifest row (`manifest_row`)."""
    return f"reject:{reject.value.source_uri}:{reject.value.reason}"


class _ReadFn(beam.DoFn):
    def __init__(self, max_bytes: int, jsonl_fields: dict | None):
        self._max_bytes = max_bytes
        self._jsonl_fields = jsonl_fields
        self._rejects = RejectRoute(STAGE, metrics.READ_REJECTED)

    def process(self, file: InputFile):
        uri = file.uri
        documents = counter(metrics.READ_DOCUMENTS)
        ids = []  # what the file held, for its manifest row
        if file.refused:
            documents.inc()
            reject = self._rejects.reject(document_uri(uri), Rejected(file.refused))
            ids.append(_manifest_id(reject))
            yield reject
            yield beam.pvalue.TaggedOutput(MANIFEST, manifest_row(file, ids))
            return
        # Every failure the readers did not name becomes a reject row of the file.
        with self._rejects.attempt(document_uri(uri)) as attempt:
            for name, doc in read_documents(uri, self._max_bytes, self._jsonl_fields, file.location):
                documents.inc()
                if isinstance(doc, Document):
                    ids.append(f"doc:{doc.doc_id}")
                    counter(metrics.read_of_type(doc.content_type)).inc()
                    if doc.encoding.endswith(MOJIBAKE_REPAIRED):
                        counter(metrics.READ_MOJIBAKE_REPAIRED).inc()
                    yield beam.pvalue.TaggedOutput(FROM_CONTAINERS, doc) if container_kind(uri) else doc
                else:
                    reject = self._rejects.reject(name, doc)
                    ids.append(_manifest_id(reject))
                    yield reject
        if attempt.failed:
            documents.inc()
            ids.append(_manifest_id(attempt.output))
            yield attempt.output
        counter(metrics.READ_FILES).inc()  # live progress: files read of those the run has to read
        yield beam.pvalue.TaggedOutput(MANIFEST, manifest_row(file, ids))


class ReadOutputs(NamedTuple):
    documents: beam.PCollection
    rejects: beam.PCollection
    manifest: beam.PCollection  # one row per file read (transforms/read.py `manifest_row`)


def _first_of_each(_, files):
    return next(iter(files))


class ReadDump(beam.PTransform):
    """Inputs -> Documents (`.documents`), read failures (`.rejects`) and `.manifest` rows.

    An input is a pattern (a path, folder, glob or URL, listed by a worker) or an `InputFile` already
    listed by the driver.
    """

    def __init__(
        self,
        inputs: list[str | InputFile],
        max_document_bytes: int = DEFAULT_MAX_DOCUMENT_BYTES,
        exclude: str | None = None,
        jsonl_fields: dict[str, str] | None = None,
    ):
        super().__init__()
        self._inputs = list(inputs)
        self._max_bytes = max_document_bytes
        self._exclude = exclude  # the output folder: never read a dataset back as input
        self._jsonl_fields = jsonl_fields  # {newsflow field: the export's field name}

    def expand(self, pipeline):
        listed = (
            pipeline
            | "Inputs" >> beam.Create(self._inputs)
            | "Expand" >> beam.ParDo(_ExpandFn(self._exclude)).with_outputs(REJECTS, main="uris")
        )
        read = (
            listed.uris
            # A file named by two inputs is read once; the shuffle also spreads the files over workers.
            | "ByUri" >> beam.Map(lambda file: (file.uri, file))
            | "GroupByUri" >> beam.GroupByKey()
            | "DistinctFiles" >> beam.MapTuple(_first_of_each)
            | "ReadFiles" >> beam.ParDo(_ReadFn(self._max_bytes, self._jsonl_fields)).with_outputs(
                REJECTS, FROM_CONTAINERS, MANIFEST, main="documents")
        )
        # One container file is read by one worker: spread its documents over all of them.
        spread = read[FROM_CONTAINERS] | "SpreadContainerDocuments" >> beam.Reshuffle()
        documents = (read.documents, spread) | "AllDocuments" >> beam.Flatten()
        rejects = (listed[REJECTS], read[REJECTS]) | "ReadRejects" >> beam.Flatten()
        return ReadOutputs(documents, rejects, read[MANIFEST])
