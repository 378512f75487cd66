"""What identifies a document, a page and a value across machines and runs: stable hashes."""
from __future__ import annotations

import hashlib

from schemas.records import Document


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
