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


def tar_bytes(members: dict[str, bytes]) -> bytes:
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
    entries("escaping-paths.tar", tar_bytes({"../evil.txt": ARTICLE.encode(), "/abs.txt": ARTICLE.encode()}),
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
    write_poison_containers(put, expected, max_document_bytes)


# ---------------------------------------------------------------------------------------------
# Poison containers (issue 23): names met twice, entries that break, a bomb behind a tar header
# ---------------------------------------------------------------------------------------------

DAYS = ("Monday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday", "in April", "in August", "in March")


def story_of(n: int) -> str:
    """The article, told on another day: distinct texts (the pipeline may still call some copies)."""
    return ARTICLE.replace("Tuesday", DAYS[n % len(DAYS)])


def page_of(n: int) -> bytes:
    title, *paragraphs = story_of(n).split("\n\n")
    body = "".join(f"<p>{p.strip()}</p>" for p in paragraphs)
    return f"<html><head><title>{title}</title></head><body><article><h1>{title}</h1>{body}</article></body></html>".encode()


def appended_tar(*parts: dict[str, bytes]) -> bytes:
    """Tar archives joined into one (`tar -A`: the first one's end blocks dropped), so a member name can
    come twice."""
    return b"".join(_tar_without_end(part) for part in parts) + b"\0" * 1024


def _tar_without_end(members: dict[str, bytes]) -> bytes:
    out = b""
    for name, data in members.items():
        info = tarfile.TarInfo(name)
        info.size = len(data)
        out += info.tobuf(format=tarfile.GNU_FORMAT) + data + b"\0" * (-len(data) % 512)
    return out


def zip_sharing_one_local_entry(names: list[str], data: bytes) -> bytes:
    """A zip whose central directory lists `names`, every entry pointing at the one local entry there is
    (named `names[0]`): a directory-level bomb, or a damaged index."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(names[0], data)
    data = buffer.getvalue()
    start, end = data.index(b"PK\x01\x02"), data.index(b"PK\x05\x06")
    fixed = data[start:start + 46]
    directory = b"".join(fixed[:28] + len(n.encode()).to_bytes(2, "little") + fixed[30:46] + n.encode() for n in names)
    tail = data[end:]
    count = len(names).to_bytes(2, "little")
    return (data[:start] + directory + tail[:8] + count + count + len(directory).to_bytes(4, "little")
            + start.to_bytes(4, "little") + tail[20:])


def zip_with_zero_date(members: dict[str, bytes], zeroed: str) -> bytes:
    """A zip whose member `zeroed` has a DOS date and time of zero (month 0, day 0: no date at all)."""
    data = bytearray(_zip(members))
    name = zeroed.encode()
    for name_at in (at for at in range(len(data)) if data.startswith(name, at)):
        local, central = data.rfind(b"PK\x03\x04", 0, name_at), data.rfind(b"PK\x01\x02", 0, name_at)
        time_at = local + 10 if local > central else central + 12
        data[time_at:time_at + 4] = b"\0\0\0\0"
    return bytes(data)


def tar_bz2_behind_a_huge_header(declared: int, zeros: int) -> bytes:
    """A .tar.bz2 whose first member announces `declared` bytes, `zeros` of which follow (a few hundred
    bytes of bz2): skipping it is what costs."""
    info = tarfile.TarInfo("zeros.txt")
    info.size = declared
    compressor = bz2.BZ2Compressor(9)
    data = compressor.compress(info.tobuf(format=tarfile.GNU_FORMAT))
    chunk = b"\0" * (1 << 20)
    for _ in range(zeros >> 20):
        data += compressor.compress(chunk)
    return data + compressor.flush()


def wrong_content_length(record: bytes, delta: int) -> bytes:
    head, _, rest = record.partition(b"Content-Length: ")
    length, _, block = rest.partition(b"\r\n")
    return head + b"Content-Length: %d\r\n" % (int(length) + delta) + block


def write_poison_containers(put, expected: dict, max_document_bytes: int) -> None:
    """Containers that once failed a whole run (issue 23): each entry is expected under its own name."""
    from web_archive import gzip_members, raw_warc_record

    def entries(container: str, data: bytes, members: dict[str, tuple[set[str], str]]) -> None:
        put(container, data, set())
        del expected[container]
        expected.update({f"{container}#{name}" if name else container: want for name, want in members.items()})

    article, rejected = ({ARTICLES}, ""), {REJECTS}
    entries("appended.tar", appended_tar({"a.txt": story_of(0).encode()}, {"a.txt": story_of(1).encode()}),
            {"a.txt": article, "a.txt~2": article})
    entries("one-local-entry.zip", zip_sharing_one_local_entry(["a.txt"] * 3, story_of(2).encode()),
            {"a.txt": article, "a.txt~2": (rejected, "shares its bytes"), "a.txt~3": (rejected, "shares its bytes")})
    put("x.zip#a.txt", story_of(4), set())  # a plain file named like x.zip's member: its '#' is written %23
    del expected["x.zip#a.txt"]
    expected["x.zip%23a.txt"] = article
    entries("x.zip", _zip({"a.txt": story_of(3).encode()}), {"a.txt": article})
    records = [raw_warc_record(f"https://port.example/{n}", page_of(n), record_id=f"<urn:uuid:{n}>") for n in range(4)]
    entries("shared-ids.warc.gz", gzip_members([raw_warc_record(f"https://port.example/s{n}", page_of(n),
                                                                record_id="<urn:uuid:same>") for n in range(2)]),
            {"<urn:uuid:same>": article, "<urn:uuid:same>~2": article})
    entries("no-ids.warc.gz", gzip_members([raw_warc_record(f"https://port.example/i{n}", page_of(n))
                                            for n in range(2)]),
            {"record-1": article, "record-2": article})
    lying = [*records[:1], wrong_content_length(records[1], -40), *records[2:]]
    entries("lying-length.warc.gz", gzip_members(lying),
            {"<urn:uuid:0>": article, "<urn:uuid:1>": (rejected, "Content-Length does not match"),
             "<urn:uuid:2>": article, "<urn:uuid:3>": article})
    members = [gzip.compress(record) for record in records]
    garbled = members[1][:12] + bytes(b ^ 0x5A for b in members[1][12:])
    entries("garbled-member.warc.gz", b"".join([members[0], garbled, *members[2:]]),
            {"<urn:uuid:0>": article, f"offset-{len(members[0])}": (rejected, "could not be read here"),
             "<urn:uuid:2>": article, "<urn:uuid:3>": article})
    entries("cut-last.warc.gz", b"".join(members)[:-len(members[-1]) // 2],
            {"<urn:uuid:0>": article, "<urn:uuid:1>": article, "<urn:uuid:2>": article,
             "<urn:uuid:3>": (rejected, "cut short")})
    good = json.dumps({"text": story_of(5)})
    entries("bad-lines.jsonl", "\n".join([good, '{"text": "lone \\ud800"}', "[" * 100_000 + "]" * 100_000,
                                          json.dumps({"text": story_of(6)})]).encode(),
            {"line-1": article, "line-2": (rejected, "not valid Unicode"), "line-3": (rejected, "nested too deeply"),
             "line-4": article})
    entries("zero-date.zip", zip_with_zero_date({"a.txt": story_of(7).encode(), "b.txt": story_of(8).encode()},
                                                "b.txt"),
            {"a.txt": article, "b.txt": article})
    entries("bomb.tar.bz2", tar_bz2_behind_a_huge_header(4 << 30, 16 << 20),
            {"zeros.txt": (rejected, "larger than the limit"), "": (rejected, "not read past")})


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
        {REJECTS}, "more HTML elements than any news page")
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
    write_costly_and_unsafe(put, folder, expected)
    return expected


def write_costly_and_unsafe(put, folder: Path, expected: dict) -> None:
    """Inputs that once ran for minutes or for ever, or were read where they must not be (issue 23)."""
    put("dashes-line.txt", ARTICLE + "\n" + "-" * 400_000 + "\n", {ARTICLES})
    put("data-line.txt", "a" * 3_000_000, {REJECTS}, "no article body")  # the line of data is dropped
    put("many-short-lines.txt", "".join(f"Line {n} of the notice - see the harbour office.\n" for n in range(25_000)),
        {ARTICLES, REJECTS})
    put("paragraphs.html", "<html><body>" + "<p>a b</p>" * 200_000 + "</body></html>", {REJECTS},
        "more HTML elements than any news page")
    os.mkfifo(folder / "pipe.txt")
    expected["pipe.txt"] = ({REJECTS}, "not a regular file")
    target = folder.parent / f"{folder.name}-outside.txt"  # a file beside the dump, not in it
    target.write_text(ARTICLE.replace("Tuesday", "the day before"))
    (folder / "outside-link.txt").symlink_to(target)
    expected["outside-link.txt"] = ({REJECTS}, "outside the input")
    put("a::b.txt", ARTICLE.replace("Tuesday", "New Year's Day"), {ARTICLES})  # not the file "a"
    put("a", ARTICLE.replace("Tuesday", "Christmas Eve"), {ARTICLES})
    put("literal-%E9.txt", ARTICLE.replace("Tuesday", "Midsummer"), set())  # and not the byte 0xE9
    del expected["literal-%E9.txt"]
    expected["literal-%2525E9.txt"] = ({ARTICLES}, "")
