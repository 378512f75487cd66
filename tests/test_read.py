"""The read stage: listing inputs, decompressing, sniffing binary files, decoding text."""
import bz2
import gzip
import lzma
import os

import pytest
import zstandard

from transforms.read import (
    binary_kind,
    content_type_of,
    decode_bytes,
    document_from_bytes,
    expand_input,
    read_document,
    repair_mojibake,
)
from transforms.routing import Rejected

STORY = "Harbor council approves new ferry schedule\n\nPORT ALDER, March 3 - The council voted ...\n"


def write(path, data: bytes):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def test_expand_directory_recursively_glob_and_single_file(tmp_path):
    write(tmp_path / "a.txt", b"x")
    write(tmp_path / "sub" / "b.txt", b"y")
    write(tmp_path / "sub" / "deeper" / "c.html", b"z")
    everything = expand_input(str(tmp_path))
    assert [u.rsplit("/", 1)[1] for u in everything] == ["a.txt", "b.txt", "c.html"]
    assert all(u.startswith("file://") for u in everything)
    assert [u.rsplit("/", 1)[1] for u in expand_input(str(tmp_path / "**" / "*.txt"))] == ["a.txt", "b.txt"]
    assert expand_input(str(tmp_path / "a.txt")) == [f"file://{tmp_path}/a.txt"]


def test_any_fsspec_url_is_listed_and_read():
    import fsspec

    memory = fsspec.filesystem("memory")
    memory.pipe("/dump/a/story.txt", STORY.encode())
    memory.pipe("/dump/b/page.html.gz", gzip.compress(b"<html><body>x</body></html>", mtime=0))
    uris = expand_input("memory://dump")
    assert uris == ["memory:///dump/a/story.txt", "memory:///dump/b/page.html.gz"]
    assert read_document(uris[0]).raw == STORY
    assert read_document(uris[1]).content_type == "html"


def test_the_output_folder_inside_an_input_is_not_read(tmp_path):
    write(tmp_path / "story.txt", b"x")
    write(tmp_path / "out" / "articles" / "part-0.parquet", b"PAR1")
    write(tmp_path / "outside.txt", b"y")
    names = [u.rsplit("/", 1)[1] for u in expand_input(str(tmp_path), exclude=str(tmp_path / "out"))]
    assert names == ["outside.txt", "story.txt"]


def test_expand_missing_input_is_rejected_with_reason(tmp_path):
    with pytest.raises(Rejected, match="input not found"):
        expand_input(str(tmp_path / "nope"))


@pytest.mark.parametrize(
    "suffix, compress",
    [(".gz", lambda d: gzip.compress(d, mtime=0)), (".bz2", bz2.compress), (".xz", lzma.compress),
     (".zst", lambda d: zstandard.ZstdCompressor().compress(d))],
)
def test_compressed_files_are_read_by_their_name(tmp_path, suffix, compress):
    path = write(tmp_path / f"story.txt{suffix}", compress(STORY.encode()))
    doc = read_document(f"file://{path}")
    assert doc.raw == STORY
    assert doc.content_type == "text"
    # Same bytes, same id, whatever the compression.
    plain = write(tmp_path / "plain.txt", STORY.encode())
    assert read_document(f"file://{plain}").doc_id == doc.doc_id


def test_corrupt_gzip_is_rejected(tmp_path):
    data = gzip.compress(STORY.encode() * 50, mtime=0)
    path = write(tmp_path / "broken.txt.gz", data[: len(data) // 2])
    with pytest.raises(Rejected, match="corrupt or truncated compressed file"):
        read_document(f"file://{path}")


def test_empty_whitespace_and_binary_files_are_rejected(tmp_path):
    with pytest.raises(Rejected, match="empty file"):
        read_document(f"file://{write(tmp_path / 'empty.txt', b'')}")
    blank = write(tmp_path / "blank.txt", b"  \n\t\n")
    with pytest.raises(Rejected, match="empty file") as rejected:
        read_document(f"file://{blank}")
    assert "only whitespace" in rejected.value.detail
    png = b"\x89PNG\r\n\x1a\n" + bytes(range(256))
    with pytest.raises(Rejected, match="binary file, not text") as rejected:
        read_document(f"file://{write(tmp_path / 'photo.txt', png)}")
    assert "PNG image" in rejected.value.detail


def test_oversized_document_is_rejected(tmp_path):
    path = write(tmp_path / "big.txt", b"word " * 1000)
    with pytest.raises(Rejected, match="larger than the limit"):
        read_document(f"file://{path}", max_bytes=100)


def test_decoding_records_how_the_encoding_was_chosen():
    text = "Le conseil a approuvé le budget de l'été à Genève, déclare le maire élu."
    assert decode_bytes(text.encode("utf-8")) == (text, "utf-8")
    assert decode_bytes(b"\xef\xbb\xbf" + text.encode("utf-8")) == (text, "utf-8 (byte-order mark)")
    assert decode_bytes(b"\xff\xfe" + text.encode("utf-16-le")) == (text, "utf-16-le (byte-order mark)")
    decoded, encoding = decode_bytes((text * 5).encode("latin-1"))
    assert decoded == text * 5
    assert "detected by charset-normalizer" in encoding
    assert decode_bytes(text.encode("utf-16-le")) == (text, "utf-16-le (no byte-order mark; told by its NUL bytes)")


def test_mojibake_is_repaired_when_decoding_and_said_in_the_encoding():
    text = "Le conseil a approuvé le budget de l'été à Genève, déclare le maire élu. « Enfin », dit-il."
    garbled = text.encode("utf-8").decode("latin-1")  # UTF-8 bytes once read as Latin-1 and saved again
    assert "Ã©" in garbled
    doc = document_from_bytes("file:///dump/garbled.txt", garbled.encode("utf-8"))
    assert doc.raw == text
    assert doc.encoding == "utf-8, mojibake repaired (ftfy)"
    as_cp1252 = text.replace("«", "\u201c").encode("utf-8").decode("cp1252")  # the other usual culprit
    assert repair_mojibake(as_cp1252) == text.replace("«", "\u201c")


def test_clean_text_is_not_touched_by_the_repair():
    clean = "Straße, café, naïve, 5 € — “quoted” ‘text’ and ½ cup; Zürich 20°C. Ω ≠ ∞."
    assert repair_mojibake(clean) == clean
    doc = document_from_bytes("file:///dump/clean.txt", clean.encode("utf-8"))
    assert (doc.raw, doc.encoding) == (clean, "utf-8")


def test_binary_sniffing():
    assert binary_kind(b"%PDF-1.7 ...") == "a PDF document"
    assert binary_kind(b"abc\x00\x01\x02\x03" * 100).startswith("binary data")
    assert binary_kind("plain text, ünïcode".encode()) is None
    assert binary_kind("utf-16 without a bom".encode("utf-16-le")) is None


def test_content_type_by_name_and_by_content():
    assert content_type_of("file:///d/page.HTML", b"") == "html"
    assert content_type_of("file:///d/page.htm.gz", b"") == "html"
    assert content_type_of("file:///d/page.txt", b"  <!DOCTYPE html><html>") == "html"
    assert content_type_of("file:///d/page.txt", b"Plain words") == "text"


def test_a_few_stray_nul_bytes_do_not_make_a_text_binary(tmp_path):
    data = STORY.replace("voted", "voted\0\0").encode()
    assert binary_kind(data) is None
    assert "voted" in read_document(str(write(tmp_path / "glitch.txt", data))).raw


def test_a_zip_archive_is_not_read_as_its_first_member(tmp_path):
    import io
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("first.txt", STORY)
        archive.writestr("second.txt", STORY)
    with pytest.raises(Rejected) as error:
        read_document(str(write(tmp_path / "pages.zip", buffer.getvalue())))
    assert "zip archive" in error.value.detail


def test_a_file_name_that_is_not_utf8_is_read_and_named_portably(tmp_path):
    name = os.fsdecode(b"caf\xe9-story.txt")  # Latin-1 bytes: undecodable as UTF-8
    (tmp_path / name).write_text(STORY)
    [uri] = expand_input(str(tmp_path))
    assert uri.endswith("/caf%E9-story.txt")
    uri.encode("utf-8")  # Beam's coders and Parquet need valid UTF-8
    assert read_document(uri).raw == STORY
