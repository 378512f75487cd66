"""Containers: WARC/ARC crawls, JSON Lines exports, zip and tar archives, entry by entry.

Plain-function tests of `transforms.containers`, then one real pipeline run over a dump that mixes every
container format, read back with pyarrow: every entry is in exactly one table, with its web address,
fetch time and dates where the container says them.
"""
import bz2
import datetime as dt
import gzip
import io
import json
import tarfile
import time
import zipfile

import pyarrow.compute as pc
import pytest
from cli_runs import ROOT, rows_by_name, run_cli
from hostile_corpus import (
    appended_tar,
    tar_bytes,
    tar_bz2_behind_a_huge_header,
    wrong_content_length,
    zip_sharing_one_local_entry,
    zip_with_zero_date,
)
from web_archive import gzip_members, raw_warc_record, warc_bytes

from pipelines.cli import jsonl_fields
from schemas.tables import ARTICLES, DUPLICATES, REJECTS
from storage.visible import open_table
from transforms import containers
from transforms.containers import (
    container_kind,
    declared_date,
    document_uri,
    file_of,
    read_entries,
    unsafe_member_path,
)
from transforms.dates import extract_publication_date
from transforms.index import source_file
from transforms.read import read_documents

LIMIT = 1 << 20


STORIES = {
    "harbour": "Dock workers in Port Alder unloaded the first container ship of the season on Monday, two weeks "
               "later than planned because of ice in the northern channel. The harbour master said cranes ran "
               "through the night to clear the backlog of timber and grain.",
    "tram": "The new tram line between the railway station and the university opened to passengers at dawn, "
            "with students queuing for the first ride. Fares stay frozen until summer, the transport authority "
            "announced, while a second branch towards the hospital awaits funding.",
    "bridge": "Engineers closed the old iron bridge over the Kelby river after divers found cracks in two of "
              "its stone piers. Traffic is diverted through the ring road, adding twenty minutes for commuters "
              "from the western villages, police said.",
    "school roof": "Pupils of the Maple Street primary school moved into portable classrooms after a storm tore "
                   "part of the roof away on Saturday night. Parents praised teachers who spent Sunday carrying "
                   "desks and books across the playground.",
    "library": "The city library will lend musical instruments from next week, starting with forty guitars, "
               "violins and keyboards donated by a retired music teacher. Borrowers need only a library card "
               "and may keep an instrument for a month.",
    "park": "Volunteers planted three hundred oak saplings along the eastern edge of Riverside Park, replacing "
            "trees lost to disease last decade. The gardeners' association hopes the young wood will shelter "
            "birds and walkers within fifteen years.",
    "café": "A café run by refugees from four countries opened in the old post office, serving coffee, flatbread "
            "and soups from each cook's home region. The owners plan evening language classes in the back room.",
    "ferry": "The night ferry to Kelby Island made its first crossing with eighty passengers and twelve cars, "
             "ending years of complaints from island workers who missed the last evening boat.",
    "escape": "An escaped circus parrot was found safe on the roof of the fire station, where it greeted "
              "firefighters by name, having learned them during two days of freedom.",
}


def story(topic: str) -> str:
    """A short self-written news story; every topic has its own words, so no two look alike."""
    paragraphs = STORIES[topic].replace(". ", ".\n\n", 1)
    return f"{paragraphs}\n\nThe council will discuss the matter at its next meeting, a spokesperson said."


def html_page(topic: str, byline: str = "") -> bytes:
    paragraphs = "".join(f"<p>{p}</p>" for p in story(topic).split("\n\n"))
    return (
        f"<html><head><title>Council votes on the {topic} plan</title></head><body>"
        f"<nav><a href='/'>Home</a> <a href='/news'>News</a></nav>"
        f"<article><h1>Council votes on the {topic} plan</h1>{byline}{paragraphs}</article>"
        f"<footer>Copyright Alder Gazette</footer></body></html>"
    ).encode()


def entries(uri, data: bytes, tmp_path, fields=None):
    path = tmp_path / uri
    path.write_bytes(data)
    return list(read_entries(str(path), str(path), LIMIT, fields))


# ---------------------------------------------------------------------------------------------
# Plain functions
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name, kind", [
    ("crawl.warc.gz", "warc"), ("CC-NEWS-2024.warc", "warc"), ("old.arc.gz", "arc"), ("export.jsonl", "jsonl"),
    ("export.ndjson.gz", "jsonl"), ("pages.zip", "zip"), ("pages.tar.gz", "tar"), ("pages.tgz", "tar"),
    ("story.txt", None), ("story.txt.gz", None), ("page.html", None), ("s3://bucket/crawl.warc.gz?v=1", "warc"),
])
def test_container_kind_by_name(name, kind):
    assert container_kind(name) == kind


@pytest.mark.parametrize("name, unsafe", [
    ("../evil.txt", True), ("a/../../evil.txt", True), ("/etc/passwd", True), ("C:\\evil.txt", True),
    ("..\\evil.txt", True), ("news/a.html", False), ("news/..a.html", False), ("a/b/../c.txt", False),
])
def test_unsafe_member_paths(name, unsafe):
    assert unsafe_member_path(name) is unsafe


@pytest.mark.parametrize("value, day", [
    ("2024-03-02", dt.date(2024, 3, 2)), ("2024-03-02T23:30:00Z", dt.date(2024, 3, 2)),
    (1709337600, dt.date(2024, 3, 2)), (1709337600000, dt.date(2024, 3, 2)),
    ("last tuesday", None), ("", None), (None, None), (True, None), ([2024], None),
])
def test_declared_dates(value, day):
    assert declared_date(value) == day


def test_jsonl_field_mapping_option():
    assert jsonl_fields("text=body, url=link,date=published") == (("text", "body"), ("url", "link"),
                                                                  ("date", "published"))
    with pytest.raises(Exception, match="FIELD=NAME"):
        jsonl_fields("body")
    with pytest.raises(Exception, match="FIELD=NAME"):
        jsonl_fields("colour=red")


def test_warc_responses_become_entries_and_the_rest_is_rejected_or_skipped(tmp_path):
    data = warc_bytes([
        {"url": "https://gazette.example/2024/03/01/harbour", "type": "request"},
        {"url": "https://gazette.example/2024/03/01/harbour", "body": html_page("harbour")},
        {"url": "https://gazette.example/logo.png", "body": b"\x89PNG....", "content_type": "image/png"},
        {"url": "https://gazette.example/gone", "body": b"not here", "status": "404 Not Found"},
        {"url": "https://gazette.example/old", "body": b"", "status": "301 Moved Permanently"},
        {"url": "https://gazette.example/2024/03/01/harbour", "type": "revisit"},
    ])
    found = entries("crawl.warc.gz", data, tmp_path)
    assert len(found) == 5  # the request record is not a document
    page, image, missing, moved, revisit = found
    assert page.failure is None and page.url == "https://gazette.example/2024/03/01/harbour"
    assert page.fetched_at == dt.datetime(2024, 3, 2, 10, tzinfo=dt.timezone.utc)
    assert page.uri.startswith(str(tmp_path / "crawl.warc.gz") + "#<urn:uuid:")
    assert b"container ship" in page.data and page.content_type == "html"
    assert "not a web page" in image.failure.reason and "image/png" in image.failure.detail
    assert "HTTP error (404)" in missing.failure.reason
    assert "HTTP redirect (301)" in moved.failure.reason
    assert "revisit" in revisit.failure.reason


def test_a_truncated_warc_keeps_what_was_read_and_rejects_itself_or_its_last_record(tmp_path):
    data = warc_bytes([{"url": f"https://gazette.example/{n}", "body": html_page(topic)}
                       for n, topic in enumerate(("harbour", "tram", "bridge"))])
    found = entries("cut.warc.gz", data[: len(data) - 200], tmp_path)
    assert [e.failure for e in found[:2]] == [None, None]
    assert len(found) == 3  # the third is either read in part or a reject of the file: never missing


def test_arc_files_are_read_with_warcio(tmp_path):
    body = b"HTTP/1.0 200 OK\r\nContent-Type: text/html\r\n\r\n" + html_page("ferry")
    # ARC v1: a file header record (its length counts the version block), then one line per record.
    version = b"1 0 Alder Archive\nURL IP-address Archive-date Content-type Archive-length\n"
    header = b"filedesc://old.arc 0.0.0.0 20010101000000 text/plain %d\n" % len(version)
    record = b"http://gazette.example/ferry.html 10.0.0.1 20010304120000 text/html %d\n" % len(body)
    data = header + version + b"\n" + record + body + b"\n"
    found = entries("old.arc", data, tmp_path)
    pages = [e for e in found if e.failure is None]
    assert len(pages) == 1 and pages[0].url == "http://gazette.example/ferry.html"
    assert pages[0].fetched_at.date() == dt.date(2001, 3, 4) and b"night ferry" in pages[0].data


def test_jsonl_lines_with_mapped_fields_bad_lines_and_a_line_over_the_limit(tmp_path):
    lines = [
        json.dumps({"body": story("bridge"), "link": "https://gazette.example/bridge", "published": "2024-02-29",
                    "headline": "Bridge plan passes"}),
        "{not json",
        json.dumps(["a", "list"]),
        json.dumps({"link": "https://gazette.example/nothing"}),
        "",
        json.dumps({"body": "x" * (LIMIT + 10)}),
        json.dumps({"markup": html_page("tram").decode()}),
    ]
    data = gzip.compress("\n".join(lines).encode())
    fields = {"text": "body", "url": "link", "date": "published", "title": "headline", "html": "markup"}
    found = entries("export.jsonl.gz", data, tmp_path, fields)
    assert [e.uri.rsplit("#", 1)[1] for e in found] == ["line-1", "line-2", "line-3", "line-4", "line-6", "line-7"]
    text, bad, listed, empty, huge, html = found
    assert text.failure is None and text.content_type == "text" and text.declared_date == dt.date(2024, 2, 29)
    assert text.data.startswith(b"Bridge plan passes\n\n") and text.url == "https://gazette.example/bridge"
    assert "not valid JSON" in bad.failure.reason
    assert "not a JSON object" in listed.failure.reason
    assert "neither its text nor its html" in empty.failure.reason and "--jsonl-fields" in empty.failure.detail
    assert "larger than the limit" in huge.failure.reason
    assert html.failure is None and html.content_type == "html"


def _zip_with(members: dict[str, bytes], links: dict[str, str] | None = None) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("news/", b"")
        for name, data in members.items():
            archive.writestr(name, data)
        for name, target in (links or {}).items():
            info = zipfile.ZipInfo(name)
            info.external_attr = 0o120777 << 16
            archive.writestr(info, target)
    return buffer.getvalue()


def test_zip_members_are_read_one_by_one_and_hostile_ones_rejected(tmp_path):
    data = _zip_with({
        "news/harbour.txt": story("harbour").encode(),
        "news/tram.html.gz": gzip.compress(html_page("tram")),
        "../escape.txt": story("escape").encode(),
        "/etc/absolute.txt": b"absolute",
        "bomb.txt": b"\0" * (LIMIT + 1),
        "inner.zip": _zip_with({"a.txt": b"a"}),
    }, links={"news/link.txt": "/etc/passwd"})
    found = {e.uri.rsplit("#", 1)[1]: e for e in entries("pages.zip", data, tmp_path)}
    assert sorted(found) == ["../escape.txt", "/etc/absolute.txt", "bomb.txt", "inner.zip", "news/harbour.txt",
                             "news/link.txt", "news/tram.html.gz"]
    assert found["news/harbour.txt"].failure is None
    assert found["news/tram.html.gz"].data.startswith(b"<html>")  # decompressed by its name
    assert "unsafe path" in found["../escape.txt"].failure.reason
    assert "unsafe path" in found["/etc/absolute.txt"].failure.reason
    assert "larger than the limit" in found["bomb.txt"].failure.reason
    assert "archive inside an archive" in found["inner.zip"].failure.reason
    assert "symbolic link" in found["news/link.txt"].failure.reason


def test_a_zip_bomb_stops_at_the_limit_even_when_it_lies_about_its_size(tmp_path):
    data = bytearray(_zip_with({"bomb.txt": b"\0" * (8 * LIMIT)}))
    # Rewrite the declared uncompressed size (central directory and local header) to 10 bytes.
    real = (8 * LIMIT).to_bytes(4, "little")
    data = bytes(data).replace(real, (10).to_bytes(4, "little"))
    [bomb] = entries("liar.zip", data, tmp_path)
    assert bomb.failure is not None  # the limit, or the zip's own size check: never 8 MB in memory unbounded


def test_tar_members_links_and_a_truncated_tar(tmp_path):
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for name, data in (("news/a.txt", story("park").encode()), ("../up.txt", b"up"),
                           ("news/b.txt", story("library").encode())):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
        link = tarfile.TarInfo("news/link.txt")
        link.type, link.linkname = tarfile.SYMTYPE, "/etc/passwd"
        archive.addfile(link)
    found = entries("pages.tar.gz", buffer.getvalue(), tmp_path)
    assert [e.uri.rsplit("#", 1)[1] for e in found] == ["news/a.txt", "../up.txt", "news/b.txt", "news/link.txt"]
    assert found[0].failure is None and "unsafe path" in found[1].failure.reason
    assert "symbolic link" in found[3].failure.reason and "/etc/passwd" in found[3].failure.detail

    plain = io.BytesIO()
    with tarfile.open(fileobj=plain, mode="w") as archive:
        for name, topic in (("a.txt", "park"), ("b.txt", "library")):
            data = story(topic).encode() * 20
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    cut = entries("cut.tar", plain.getvalue()[:1500], tmp_path)
    assert cut[-1].failure is not None and "corrupt or truncated" in cut[-1].failure.reason
    assert cut[-1].uri == str(tmp_path / "cut.tar")  # the archive itself is the reject


def test_an_empty_archive_is_a_reject_not_a_silent_nothing(tmp_path):
    [entry] = entries("empty.zip", _zip_with({}), tmp_path)
    assert "holds no document" in entry.failure.reason


def test_read_documents_decodes_entries_with_the_declared_charset(tmp_path):
    page = html_page("café").decode().encode("latin-1")
    path = tmp_path / "latin.warc.gz"
    path.write_bytes(warc_bytes([{"url": "https://gazette.example/cafe", "body": page,
                                  "content_type": "text/html; charset=ISO-8859-1"}]))
    [(_uri, doc)] = list(read_documents(str(path), LIMIT))
    assert "café run by refugees" in doc.raw and "declared by the server" in doc.encoding
    assert doc.url == "https://gazette.example/cafe" and doc.address == doc.url


def test_dates_read_the_web_address_and_fall_back_to_the_fetch_day():
    body = story("harbour")
    from_url = extract_publication_date(body, body, None, "file:///d/crawl.warc.gz#<urn:1>",
                                        url="https://gazette.example/2023/11/05/harbour",
                                        fetched_at=dt.datetime(2024, 3, 2, tzinfo=dt.timezone.utc))
    assert (from_url.published_date, from_url.date_source) == (dt.date(2023, 11, 5), "url")
    fallback = extract_publication_date(body, body, None, "file:///d/crawl.warc.gz#<urn:1>",
                                        fetched_at=dt.datetime(2024, 3, 2, tzinfo=dt.timezone.utc))
    assert (fallback.published_date, fallback.date_source) == (dt.date(2024, 3, 2), "fetched")
    assert fallback.confidence <= 0.3
    declared = extract_publication_date(body, body, None, "file:///d/x.jsonl#line-1", declared=dt.date(2024, 1, 9))
    assert (declared.published_date, declared.date_source) == (dt.date(2024, 1, 9), "declared")
    # A page cannot be published after it was fetched: a later date on it is no publication date.
    later = extract_publication_date("Posted on 4 March 2024\n\n" + body, body, None, "x",
                                     fetched_at=dt.datetime(2024, 3, 2, tzinfo=dt.timezone.utc))
    assert later.published_date != dt.date(2024, 3, 4)


# ---------------------------------------------------------------------------------------------
# Broken containers: every entry named once, a bad entry costs only itself (issue 23)
# ---------------------------------------------------------------------------------------------


def ids(found) -> list[str]:
    return [e.uri.split("#", 1)[1] if "#" in e.uri else "" for e in found]


@pytest.mark.filterwarnings("ignore:Duplicate name")
def test_members_of_the_same_name_get_a_numbered_suffix_the_same_on_every_read(tmp_path):
    tar = appended_tar({"a.txt": story("park").encode()}, {"a.txt": story("library").encode(), "a.txt~2": b"x"})
    first, again = entries("appended.tar", tar, tmp_path), entries("appended.tar", tar, tmp_path)
    assert ids(first) == ["a.txt", "a.txt~2", "a.txt~2~2"]  # the literal "a.txt~2" comes second: it moves on
    assert [e.uri for e in first] == [e.uri for e in again]
    assert b"Riverside Park" in first[0].data and b"city library" in first[1].data

    # Archives joined with `cat`: each keeps its end blocks, which end a reader that does not look past them.
    joined = b"".join(tar_bytes({"a.txt": story(topic).encode()}) for topic in ("park", "tram", "bridge"))
    found = entries("joined.tar.gz", gzip.compress(joined), tmp_path)
    assert ids(found) == ["a.txt", "a.txt~2", "a.txt~3"] and b"Kelby river" in found[2].data

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("news/a.txt", story("park"))
        archive.writestr("news/a.txt", story("tram"))  # zipfile warns, and writes both
    assert ids(entries("twice.zip", buffer.getvalue(), tmp_path)) == ["news/a.txt", "news/a.txt~2"]


def test_a_zip_whose_directory_points_many_entries_at_one_local_entry(tmp_path):
    same = entries("overlap.zip", zip_sharing_one_local_entry(["a.txt"] * 5, story("ferry").encode()), tmp_path)
    assert ids(same) == ["a.txt", "a.txt~2", "a.txt~3", "a.txt~4", "a.txt~5"]
    named = entries("aliases.zip", zip_sharing_one_local_entry(["a.txt", "b.txt", "c.txt"], story("ferry").encode()),
                    tmp_path)
    assert ids(named) == ["a.txt", "b.txt", "c.txt"]
    # The bytes are read once: a zip bomb points thousands of entries at one entry of the limit's size.
    for found in (same, named):
        assert found[0].failure is None and b"night ferry" in found[0].data
        assert all("shares its bytes with another entry" in e.failure.reason for e in found[1:])


def test_zip_entries_whose_bytes_overlap_are_read_once(tmp_path):
    data = bytearray(_zip_with({"a.txt": story("park").encode(), "b.txt": story("tram").encode()}))
    # Make b.txt's central directory entry claim a compressed size reaching into the directory.
    central = data.index(b"PK\x01\x02", data.index(b"PK\x01\x02", data.index(b"PK\x01\x02") + 1) + 1)
    data[central + 20:central + 24] = (len(data)).to_bytes(4, "little")
    found = {e.uri.rsplit("#", 1)[1]: e for e in entries("overlapping.zip", bytes(data), tmp_path)}
    assert found["a.txt"].failure is None
    assert "shares its bytes" in found["b.txt"].failure.reason


def test_warc_records_that_share_an_id_or_have_none_get_distinct_stable_names(tmp_path):
    pages = [html_page(topic) for topic in ("harbour", "tram", "bridge")]
    shared = gzip_members([raw_warc_record(f"https://gazette.example/{n}", page, record_id="<urn:uuid:same>")
                           for n, page in enumerate(pages)])
    found = entries("shared.warc.gz", shared, tmp_path)
    assert ids(found) == ["<urn:uuid:same>", "<urn:uuid:same>~2", "<urn:uuid:same>~3"]
    assert all(e.failure is None for e in found)
    missing = gzip_members([raw_warc_record(f"https://gazette.example/{n}", page) for n, page in enumerate(pages)])
    found = entries("no-ids.warc.gz", missing, tmp_path)
    assert ids(found) == ["record-1", "record-2", "record-3"]
    assert [e.uri for e in found] == [e.uri for e in entries("no-ids.warc.gz", missing, tmp_path)]


def test_a_plain_file_named_like_a_member_keeps_a_name_of_its_own(tmp_path):
    with zipfile.ZipFile(tmp_path / "x.zip", "w") as archive:
        archive.writestr("a.txt", story("park"))
    (tmp_path / "x.zip#a.txt").write_text(story("tram"))
    member = [uri for uri, _ in read_documents(str(tmp_path / "x.zip"), LIMIT)]
    [(plain, doc)] = list(read_documents(str(tmp_path / "x.zip#a.txt"), LIMIT))
    assert member == [str(tmp_path / "x.zip") + "#a.txt"]
    assert plain == doc.source_uri == str(tmp_path / "x.zip%23a.txt") and plain not in member
    # The file of a document is found back from its URI, whatever its name holds.
    assert source_file(plain) == file_of(plain) == str(tmp_path / "x.zip#a.txt")
    assert source_file(member[0]) == str(tmp_path / "x.zip")


@pytest.mark.parametrize("name", ["plain.txt", "a#b.txt", "a%23b.txt", "a%2523b#%25.txt", "%", "#", "%2%23#"])
def test_document_uris_of_files_are_one_to_one_and_reversible(name):
    uri = document_uri(f"file:///d/{name}")
    assert "#" not in uri and file_of(uri) == f"file:///d/{name}"
    assert file_of(document_uri(f"file:///d/{name}", "m#1")) == f"file:///d/{name}"
    if "#" not in name and "%2" not in name:
        assert uri == f"file:///d/{name}"  # an ordinary name is its own URI, as before


def test_one_bad_json_line_is_one_reject_and_the_other_lines_are_read(tmp_path):
    good = json.dumps({"text": story("park")})
    lines = [good, '{"text": "lone \\ud800 surrogate"}', "[" * 100_000 + "]" * 100_000, good]
    found = entries("hostile.jsonl", "\n".join(lines).encode(), tmp_path)
    assert ids(found) == ["line-1", "line-2", "line-3", "line-4"]
    assert found[0].failure is None and found[3].failure is None
    assert "not valid Unicode" in found[1].failure.reason
    assert "nested too deeply" in found[2].failure.reason


def test_a_zip_member_with_a_zero_dos_date_is_read_with_its_neighbours(tmp_path):
    data = zip_with_zero_date({"a.txt": story("park").encode(), "b.txt": story("tram").encode(),
                               "c.txt": story("bridge").encode()}, "b.txt")
    found = entries("zero-date.zip", data, tmp_path)
    assert ids(found) == ["a.txt", "b.txt", "c.txt"] and all(e.failure is None for e in found)
    assert found[1].modified_at is None and found[0].modified_at is not None


def test_zeros_after_a_tar_end_are_not_read_block_by_block(tmp_path):
    tar = tar_bytes({"a.txt": story("park").encode()})
    compressor = bz2.BZ2Compressor(9)
    data = compressor.compress(tar) + b"".join(compressor.compress(b"\0" * (1 << 20)) for _ in range(256))
    start = time.monotonic()
    found = entries("trailing-zeros.tar.bz2", data + compressor.flush(), tmp_path)
    assert time.monotonic() - start < 5
    assert ids(found) == ["a.txt", ""] and found[0].failure is None
    assert "long run of zero bytes" in found[1].failure.reason


def _pages(count: int) -> list[bytes]:
    topics = list(STORIES)
    return [raw_warc_record(f"https://gazette.example/{n}", html_page(topics[n]), record_id=f"<urn:uuid:{n}>")
            for n in range(count)]


def _page_ids(found) -> dict[str, str | None]:
    return {e.uri.split("#", 1)[1]: e.failure and e.failure.reason for e in found}


@pytest.mark.parametrize("compress", [gzip_members, b"".join], ids=["gzip", "plain"])
@pytest.mark.parametrize("delta", [40, -40, 100_000])
def test_a_warc_record_with_a_wrong_content_length_is_a_reject_and_the_next_records_are_read(tmp_path, compress,
                                                                                                  delta):
    records = _pages(4)
    records[1] = wrong_content_length(records[1], delta)
    found = _page_ids(entries("lying.warc.gz" if compress is gzip_members else "lying.warc", compress(records),
                              tmp_path))
    assert found["<urn:uuid:0>"] is None and found["<urn:uuid:3>"] is None
    assert "Content-Length does not match" in found["<urn:uuid:1>"]
    if delta < 0 or compress is gzip_members:  # a record that swallowed the next one's start takes it along
        assert found["<urn:uuid:2>"] is None
    assert len(found) <= 5


def test_a_corrupt_gzip_member_mid_warc_is_one_reject_and_the_records_after_it_are_read(tmp_path):
    members = [gzip.compress(record) for record in _pages(5)]
    members[2] = members[2][:12] + bytes(b ^ 0x5A for b in members[2][12:])  # its deflate data garbled
    at = sum(map(len, members[:2]))
    found = entries("garbled.warc.gz", b"".join(members), tmp_path)
    assert ids(found) == ["<urn:uuid:0>", "<urn:uuid:1>", f"offset-{at}", "<urn:uuid:3>", "<urn:uuid:4>"]
    assert "could not be read here" in found[2].failure.reason
    assert all(e.failure is None for n, e in enumerate(found) if n != 2)
    # Damage from the first byte: the reject is the file's own, the records after it are read.
    first = entries("garbled-first.warc.gz", members[2] + b"".join(members[3:]), tmp_path)
    assert ids(first) == ["", "<urn:uuid:3>", "<urn:uuid:4>"]
    assert "could not be read from its start" in first[0].failure.reason and first[1].failure is None


def test_a_warc_too_damaged_to_read_on_ends_with_a_reject_of_its_own_name(tmp_path, monkeypatch):
    monkeypatch.setattr(containers, "WARC_MAX_RESTARTS", 1)
    members = [gzip.compress(record) for record in _pages(2)]
    garbled = members[0][:12] + bytes(b ^ 0x5A for b in members[0][12:])
    found = entries("hopeless.warc.gz", garbled + members[1], tmp_path)
    assert ids(found) == ["", "unread"]  # the file's own name is taken by the damage from its first byte
    assert "too damaged" in found[1].failure.reason


@pytest.mark.parametrize("compress", [gzip_members, b"".join], ids=["gzip", "plain"])
def test_a_warc_whose_last_record_is_cut_short_rejects_that_record(tmp_path, compress):
    long_page = html_page("harbour") + b"<p>" + b" ".join(b"w%d" % n for n in range(20_000)) + b"</p>"
    records = _pages(2) + [raw_warc_record("https://gazette.example/long", long_page, record_id="<urn:uuid:long>")]
    data = compress(records)
    found = _page_ids(entries("cut.warc.gz" if compress is gzip_members else "cut.warc",
                              data[: len(data) - len(compress(records[-1:])) // 2], tmp_path))
    assert found == {"<urn:uuid:0>": None, "<urn:uuid:1>": None, "<urn:uuid:long>": found["<urn:uuid:long>"]}
    assert "cut short" in found["<urn:uuid:long>"]


def test_a_member_too_large_to_skip_ends_the_tar_at_linear_cost(tmp_path):
    # The header announces 4 GiB; 64 MiB of zeros follow in one bz2 stream (a few hundred bytes).
    data = tar_bz2_behind_a_huge_header(4 << 30, 64 << 20)
    start = time.monotonic()
    found = entries("bomb.tar.bz2", data, tmp_path)
    assert time.monotonic() - start < 5
    assert ids(found) == ["zeros.txt", ""]
    assert "larger than the limit" in found[0].failure.reason
    assert "not read past" in found[1].failure.reason and "zeros.txt" in found[1].failure.detail


def test_members_over_the_limit_but_cheap_to_skip_keep_their_neighbours(tmp_path):
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:bz2") as archive:
        for name, data in (("big.txt", story("tram").encode() * (2 * LIMIT // 300)), ("a.txt", story("park").encode())):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    found = entries("big.tar.bz2", buffer.getvalue(), tmp_path)
    assert ids(found) == ["big.txt", "a.txt"]
    assert "larger than the limit" in found[0].failure.reason and found[1].failure is None


# ---------------------------------------------------------------------------------------------
# A real run over every format
# ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def mixed_run(tmp_path_factory):
    root = tmp_path_factory.mktemp("containers")
    dump, out = root / "dump", root / "out"
    dump.mkdir()
    (dump / "crawl.warc.gz").write_bytes(warc_bytes([
        {"url": "https://gazette.example/2024/02/27/harbour", "body": html_page("harbour")},
        {"url": "https://gazette.example/news/tram", "body": html_page("tram"), "date": "2024-03-01T08:00:00Z"},
        {"url": "https://gazette.example/logo.png", "body": b"\x89PNG", "content_type": "image/png"},
        {"url": "https://gazette.example/news/tram", "type": "request"},
    ]))
    (dump / "export.jsonl").write_text("\n".join([
        json.dumps({"body": story("bridge"), "link": "https://wire.example/bridge", "published": "2024-02-20"}),
        json.dumps({"body": story("harbour"), "link": "https://wire.example/harbour-copy"}),
        "{broken",
    ]))
    with zipfile.ZipFile(dump / "pages.zip", "w") as archive:
        archive.writestr("site/school.txt", "School roof plan\n\n" + story("school roof"))
        archive.writestr("../escape.txt", story("escape"))
    with tarfile.open(dump / "pages.tar.gz", "w:gz") as archive:
        data = ("Library plan\n\n" + story("library")).encode()
        info = tarfile.TarInfo("site/library.txt")
        info.size = len(data)
        archive.addfile(info, io.BytesIO(data))
    (dump / "plain.txt").write_text("Park plan\n\n" + story("park"))
    args = ("--output", out, "--jsonl-fields", "text=body,url=link,date=published", "--reference-date", "2024-03-05")
    first = run_cli(dump, *args)
    second = run_cli(dump, *args)
    return dump, out, first, second


@pytest.mark.slow
def test_every_entry_of_every_container_is_in_exactly_one_table(mixed_run):
    dump, out, first, _ = mixed_run
    assert first.returncode == 0, first.stderr[-2000:]
    names = []
    for table in (ARTICLES, DUPLICATES, REJECTS):
        names += [uri.split(str(dump) + "/", 1)[1]
                  for uri in open_table(str(out), table).to_table(columns=["source_uri"]).column(0).to_pylist()]
    warc_ids = [n for n in names if n.startswith("crawl.warc.gz#")]
    assert len(warc_ids) == 3  # two pages and the image: the request is no document
    assert sorted(n for n in names if not n.startswith("crawl.warc.gz#")) == [
        "export.jsonl#line-1", "export.jsonl#line-2", "export.jsonl#line-3", "pages.tar.gz#site/library.txt",
        "pages.zip#../escape.txt", "pages.zip#site/school.txt", "plain.txt"]
    assert len(names) == len(set(names))


@pytest.mark.slow
def test_web_address_fetch_time_and_dates_from_the_container(mixed_run):
    _dump, out, _, _ = mixed_run
    articles = rows_by_name(out, ARTICLES)
    tram = next(row for name, row in articles.items() if row["url"] == "https://gazette.example/news/tram")
    assert tram["fetched_at"] == dt.datetime(2024, 3, 1, 8, tzinfo=dt.timezone.utc)
    assert (tram["published_date"], tram["date_source"]) == (dt.date(2024, 3, 1), "fetched")
    bridge = articles["export.jsonl#line-1"]
    assert (bridge["published_date"], bridge["date_source"]) == (dt.date(2024, 2, 20), "declared")
    assert bridge["url"] == "https://wire.example/bridge"
    assert articles["plain.txt"]["url"] is None
    table = open_table(str(out), ARTICLES).to_table()
    harbour = table.filter(pc.equal(table["url"], "https://gazette.example/2024/02/27/harbour"))
    copies = rows_by_name(out, DUPLICATES)
    # The harbour story appears twice (crawl and export): one article, one duplicate.
    assert harbour.num_rows + sum(r["url"] == "https://gazette.example/2024/02/27/harbour" for r in copies.values()) == 1
    assert any(r["url"] == "https://wire.example/harbour-copy" for r in copies.values()) or harbour.num_rows == 0


@pytest.mark.slow
def test_a_rerun_over_the_containers_adds_nothing(mixed_run):
    _, _, _first, second = mixed_run
    assert second.returncode == 0, second.stderr[-2000:]
    assert "nothing new to ingest" in second.stdout


def test_the_formats_sample_delivery(tmp_path):
    """samples/formats (samples/make_formats.py): one delivery per container format, as the README shows it."""
    formats = ROOT / "samples" / "formats"
    out = tmp_path / "out"
    run_cli(formats, "--output", out)
    articles, copies = rows_by_name(out, ARTICLES), rows_by_name(out, DUPLICATES)
    rejects = open_table(str(out), REJECTS).to_table().to_pylist()
    assert (len(articles), len(copies), len(rejects)) == (5, 2, 5)
    assert sorted(row["reason"].split(":")[0] for row in rejects) == [
        "HTTP error (404)", "WARC response is not a web page", "archive member with an unsafe path (absolute or '../')",
        "line is not valid JSON", "symbolic link inside an archive"]
    assert articles["export.jsonl#line-1"]["published_date"] == dt.date(2024, 3, 4)
    # Year-less wire datelines take the year of the export's date and of the archive member's time.
    assert articles["export.jsonl#line-3"]["published_date"] == dt.date(2024, 3, 8)
    assert articles["tram.txt"]["published_date"] == dt.date(2024, 3, 9)
    crawled = [row for row in copies.values() if row["url"]]
    assert sorted(row["published_date"] for row in crawled) == [dt.date(2024, 3, 8), dt.date(2024, 3, 9)]
