"""A corpus of hostile inputs, generated (no committed blobs): `write_corpus(folder)` -> expectations.

Each entry is a file newsflow must survive: it ends in `articles` (when it is legitimately readable) or in
`rejects` with a reason a person understands, never in a crash. Every text is written for these tests.
"""
from __future__ import annotations

import bz2
import gzip
import io
import json
import os
import tarfile
import zipfile
from pathlib import Path

ARTICLE = (
    "Harbour board approves new night ferry\n\n"
    "The harbour board of Port Alder approved on Tuesday a night ferry to Kelby Island, after two years of "
    "requests from island workers who miss the last boat home in the evening.\n\n"
    "The crossing will leave the mainland pier at eleven and return at midnight, with room for forty "
    "passengers and a dozen cars on each trip, the board said in a statement.\n"
)
LATIN = (
    "Le conseil municipal a approuvé mardi la création d'une navette de nuit vers l'île de Kelby, après deux "
    "années de demandes des travailleurs de l'île qui manquent le dernier bateau du soir.\n\n"
    "La traversée partira du quai à vingt-trois heures et reviendra à minuit, a précisé le conseil.\n"
)
SMART = ARTICLE.replace("board said", "board said: \u201cit\u2019s time\u201d \u2013 finally")
COOKIE_WALL = (
    "We value your privacy\n\nWe and our partners use cookies to store and access information on a device.\n"
    "Accept all\nReject all\nManage preferences\n"
)

ARTICLES, REJECTS = "articles", "rejects"


def _gzip(data: bytes) -> bytes:
    return gzip.compress(data, compresslevel=9)


def _zeros_gzip(size: int) -> bytes:
    """A gzip bomb: `size` bytes of zeros in a few kilobytes."""
    buffer = io.BytesIO()
    with gzip.GzipFile(fileobj=buffer, mode="wb", compresslevel=9) as stream:
        chunk = b"\0" * (1 << 20)
        for _ in range(size // len(chunk)):
            stream.write(chunk)
    return buffer.getvalue()


def _zip(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def _tar(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def _zip_link(name: str, target: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        info = zipfile.ZipInfo(name)
        info.external_attr = 0o120777 << 16  # a symbolic link, as `zip --symlinks` stores it
        archive.writestr(info, target)
    return buffer.getvalue()


def _tar_link(name: str, target: str) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        info = tarfile.TarInfo(name)
        info.type, info.linkname = tarfile.SYMTYPE, target
        archive.addfile(info)
    return buffer.getvalue()


def write_archives(put, expected: dict, max_document_bytes: int) -> None:
    """Archives, crawls and exports with hostile entries: each entry is expected as `file#entry`."""
    from web_archive import warc_bytes

    def entries(container: str, data: bytes, members: dict[str, tuple[set[str], str]]) -> None:
        put(container, data, set())
        del expected[container]
        expected.update({f"{container}#{name}" if name else container: want for name, want in members.items()})

    unsafe = ({REJECTS}, "unsafe path")
    entries("escaping-paths.zip", _zip({"../../outside.txt": ARTICLE.encode(), "/etc/absolute.txt": b"x",
                                        "inside/ok.txt": ARTICLE.replace("Tuesday", "in May").encode()}),
            {"../../outside.txt": unsafe, "/etc/absolute.txt": unsafe, "inside/ok.txt": ({ARTICLES}, "")})
    entries("escaping-paths.tar", _tar({"../evil.txt": ARTICLE.encode(), "/abs.txt": ARTICLE.encode()}),
            {"../evil.txt": unsafe, "/abs.txt": unsafe})
    entries("symlink.zip", _zip_link("passwd.txt", "/etc/passwd"), {"passwd.txt": ({REJECTS}, "symbolic link")})
    entries("symlink.tar", _tar_link("passwd.txt", "/etc/passwd"), {"passwd.txt": ({REJECTS}, "symbolic link")})
    entries("bomb.zip", _zip({"zeros.txt": b"\0" * (max_document_bytes + (2 << 20))}),
            {"zeros.txt": ({REJECTS}, "larger than the limit")})
    entries("nested.zip", _zip({"inner.zip": _zip({"a.txt": ARTICLE.encode()})}),
            {"inner.zip": ({REJECTS}, "archive inside an archive")})
    entries("truncated.zip", _zip({"a.txt": ARTICLE.encode()})[:60], {"": ({REJECTS}, "corrupt or truncated")})
    entries("empty.zip", _zip({}), {"": ({REJECTS}, "holds no document")})
    entries("garbage.warc.gz", b"WARC/1.0 this is no crawl" * 40, {"": ({REJECTS}, "")})
    entries("lines.jsonl", (json.dumps({"text": ARTICLE.replace("Tuesday", "in July")}) + "\n{broken\n").encode(),
            {"line-1": ({ARTICLES}, ""), "line-2": ({REJECTS}, "not valid JSON")})
    image = warc_bytes([{"url": "https://port.example/logo.png", "body": b"\x89PNG", "content_type": "image/png"}])
    put("image-only.warc.gz", image, set())
    del expected["image-only.warc.gz"]
    expected["image-only.warc.gz#<record>"] = ({REJECTS}, "not a web page")


def write_corpus(folder: Path, max_document_bytes: int) -> dict[str, tuple[set[str], str]]:
    """Write the hostile corpus into `folder`; returns {relative path: (allowed tables, reason part)}.

    `max_document_bytes` is the limit the run will use: the oversized inputs are made to exceed it.
    """
    folder.mkdir(parents=True, exist_ok=True)
    expected: dict[str, tuple[set[str], str]] = {}
    too_big = "larger than the limit"

    def put(name: str, data: bytes | str, tables: set[str], reason: str = "") -> None:
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
        expected[name] = (tables, reason)

    put("empty.txt", b"", {REJECTS}, "empty file")
    put("whitespace-only.txt", " \n\t\n   \r\n", {REJECTS}, "empty file")
    put("image.png.txt", b"\x89PNG\r\n\x1a\n" + os.urandom(300), {REJECTS}, "binary file")
    put("document.pdf", b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n" + os.urandom(200), {REJECTS}, "binary file")
    put("program.exe", b"MZ\x90\x00" + os.urandom(500), {REJECTS}, "binary file")
    put("elf-binary", b"\x7fELF\x02\x01\x01" + os.urandom(500), {REJECTS}, "binary file")
    put("random-bytes.bin.txt", os.urandom(4000), {REJECTS}, "")
    put("nul-bytes-inside.txt", ARTICLE.replace("evening.", "evening.\0\0").encode(), {ARTICLES})
    put("utf16-bom.txt", ARTICLE.encode("utf-16"), {ARTICLES})
    put("utf16-no-bom.txt", ARTICLE.encode("utf-16-le"), {ARTICLES})
    put("latin1.txt", LATIN.encode("latin-1"), {ARTICLES})
    put("windows-1252.txt", SMART.encode("cp1252"), {ARTICLES})
    put("mixed-encodings.txt", ARTICLE.encode("utf-8") + LATIN.encode("latin-1"), {ARTICLES})
    put("mojibake.txt", LATIN.encode("utf-8").decode("latin-1").encode("utf-8"), {ARTICLES})
    put("control-characters.txt", ARTICLE.replace("Tuesday", "\x1b[1mTuesday\x1b[0m\x07"), {ARTICLES})
    put("long-line.txt", ("word " * (max_document_bytes // 5 + 10)).encode(), {REJECTS}, too_big)
    put("long-line-under-limit.txt", ("The ferry runs at night. " * (max_document_bytes // 50)).encode(),
        {ARTICLES, REJECTS})
    put("many-tiny-lines.txt", "a\n" * min(1_000_000, max_document_bytes // 3), {REJECTS}, "no article body")
    put("truncated.txt.gz", _gzip(ARTICLE.encode())[:40], {REJECTS}, "corrupt or truncated")
    put("not-gzip.txt.gz", b"this was never compressed", {REJECTS}, "corrupt or truncated")
    put("bomb.txt.gz", _zeros_gzip(max_document_bytes + (2 << 20)), {REJECTS}, too_big)
    put("bomb.txt.bz2", bz2.compress(b"\0" * (max_document_bytes + (2 << 20))), {REJECTS}, too_big)
    write_archives(put, expected, max_document_bytes)
    put("deep-nesting.html", "<html><body>" + "<div>" * 100_000 + "deep" + "</div>" * 100_000 + "</body></html>",
        {REJECTS}, "no article body")
    put("entity-expansion.html",
        '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;'
        '&lol;&lol;&lol;&lol;&lol;"><!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;'
        '&lol2;">]><html><body><p>&lol3;</p></body></html>', {REJECTS}, "no article body")
    put("script-only.html", "<html><head><script>" + "var a = 1;\n" * 5000 + "</script></head></html>", {REJECTS},
        "no article body")
    put("cookie-wall.txt", COOKIE_WALL, {REJECTS}, "no article body")
    put("cookie-wall.html", "<html><body><div class='consent'>" + COOKIE_WALL.replace("\n", "<br>") + "</div></body></html>",
        {REJECTS}, "no article body")
    put("name with spaces.txt", ARTICLE.replace("Tuesday", "Wednesday"), {ARTICLES})
    put("name\nwith\nnewlines.txt", ARTICLE.replace("Tuesday", "Thursday"), {ARTICLES})
    put("ünïcödé-名前.txt", ARTICLE.replace("Tuesday", "Friday"), {ARTICLES})
    put("rtl-and-mixed-scripts.txt", "مرحبا بالعالم " * 20 + "\n\n" + ARTICLE.replace("Tuesday", "Saturday"),
        {ARTICLES})
    # A file name that is not UTF-8: it appears in the tables with its odd bytes written %FF.
    (folder / os.fsdecode(b"latin1-name-\xe9t\xe9.txt")).write_text(ARTICLE.replace("Tuesday", "in June"))
    expected["latin1-name-%E9t%E9.txt"] = ({ARTICLES}, "")
    broken = folder / "broken-link.txt"
    broken.symlink_to(folder / "does-not-exist.txt")
    expected["broken-link.txt"] = ({REJECTS}, "broken link")
    locked = folder / "no-permission.txt"
    locked.write_text(ARTICLE.replace("Tuesday", "Sunday"))
    locked.chmod(0)
    # root reads anything: then the file is an article, as it should be
    expected["no-permission.txt"] = ({ARTICLES} if os.geteuid() == 0 else {REJECTS}, "" if os.geteuid() == 0 else "permission")
    return expected
