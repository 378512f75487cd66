"""What identifies a document, a page, a line and a value across machines and runs: stable hashes, and
the publisher a page belongs to."""
from __future__ import annotations

import hashlib
import posixpath
import re
from urllib.parse import urlsplit

from schemas.records import Document
from transforms.lexicon import WORD

_DATE_FOLDER = re.compile(r"^\d{4}(?:[-_.]?\d{2}){0,2}$")  # a delivery folder: 2024-03, 20240301


def page_key(doc: Document) -> str:
    """What makes two documents one page: the same bytes, or the same page once whitespace is ignored
    (CRLF line ends, trailing spaces, blank lines, tabs). The doc_id when the page is gone."""
    if not doc.raw:
        return doc.doc_id
    words = doc.raw.encode("utf-8", "surrogatepass").split()  # split as bytes: a third faster than as str
    return hashlib.blake2b(b" ".join(words), digest_size=16).hexdigest()


def stable_hash(value: str | bytes, signed: bool = False) -> int:
    """A 64-bit hash that is the same on every machine and run (Python's hash() is salted per process):
    for ids carried through shuffles, shards, and statistics persisted between runs."""
    data = value.encode() if isinstance(value, str) else value
    return int.from_bytes(hashlib.blake2b(data, digest_size=8).digest(), "little", signed=signed)


def content_id(data: bytes) -> str:
    """A stable id for a document: the first 128 bits of the SHA-256 of its bytes, in hex."""
    return hashlib.sha256(data).hexdigest()[:32]


def source_of(source_uri: str) -> str:
    """The publisher a page belongs to: its web host, else the folder of its file.

    Delivery folders named by date are skipped (`dumps/2024-03-02/site/x.txt` -> `site`, flat
    `dumps/2024-03-02/x.txt` -> `dumps`), so the next night's dump of a site finds this night's counts.
    """
    uri, _, member = source_uri.partition("#")
    split = urlsplit(uri)
    if split.scheme in ("http", "https"):
        return split.netloc.lower()
    path = posixpath.join(split.path, member) if member else split.path
    folders = [part for part in posixpath.dirname(path).split("/") if part]
    while folders and _DATE_FOLDER.match(folders[-1]):
        folders.pop()
    return folders[-1] if folders else ""


def words_key(text: str) -> str:
    """What copies of a line have in common: its words, lower-cased (quotes, dashes, case aside)."""
    return "".join(WORD.findall(text.lower()))


def line_key(text: str) -> int:
    """A line's words as a signed 64-bit hash (never 0): how template learning counts lines across pages,
    and how the dates stage knows a line its source prints on many stories."""
    return hashed_words(words_key(text))


def hashed_words(key: str) -> int:
    """`line_key` of a line whose `words_key` is known."""
    return stable_hash(key, signed=True) or 1  # signed: Parquet int64; never 0 (templates.ALL_STORIES)
