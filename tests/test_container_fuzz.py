"""Fuzzing the container readers (issue 23): random truncation, flipped bytes, repeated names and IDs, bad
dates and lying lengths. Whatever the bytes, reading finishes, every entry has a name of its own (the same
on a second read), and a document is either read or a reject with a reason.

The readers are fuzzed directly, without Beam (many examples in seconds); one real run over the poison
containers of tests/hostile_corpus.py then checks, from the Parquet read back, that every document is in
exactly one of articles, duplicates and rejects.
"""
import gzip
import io
import json
import zipfile

import pytest
from cli_runs import run_cli
from hostile_corpus import ARTICLES, REJECTS, appended_tar, story_of, write_poison_containers
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from web_archive import gzip_members, raw_warc_record

from schemas.tables import DUPLICATES
from storage.visible import open_table
from transforms.containers import document_uri, file_of, read_entries

pytestmark = pytest.mark.filterwarnings("ignore:Duplicate name:UserWarning")  # zipfile, on names made twice

LIMIT = 64 << 10
FUZZ = settings(max_examples=int(__import__("os").environ.get("FUZZ_EXAMPLES", 40)), deadline=None, suppress_health_check=[HealthCheck.too_slow])

# Few names and ids, so that repeats are common; "a.txt~2" is what a repeated "a.txt" becomes.
NAMES = st.sampled_from(["a.txt", "b.txt", "news/a.txt", "a.txt~2", "c.html"])
TEXTS = st.integers(0, 8).map(lambda n: story_of(n).encode())
RECORD_IDS = st.sampled_from(["<urn:uuid:1>", "<urn:uuid:2>", "<urn:uuid:1>~2", None])


@st.composite
def damage(draw):
    """Nothing, or a cut and up to three flipped bytes, at places given as shares of the file."""
    cut = draw(st.none() | st.floats(0, 1))
    flips = draw(st.lists(st.tuples(st.floats(0, 1), st.integers(1, 255)), max_size=3))
    return cut, flips


def damaged(data: bytes, harm) -> bytes:
    cut, flips = harm
    data = bytearray(data[: int(len(data) * cut)] if cut is not None else data)
    for share, mask in flips:
        if data:
            data[min(int(len(data) * share), len(data) - 1)] ^= mask
    return bytes(data)


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    return tmp_path_factory.mktemp("fuzz")


def read_twice(folder, name: str, data: bytes):
    """The entries of a container file, after checking what must hold whatever its bytes."""
    path = folder / name
    path.write_bytes(data)
    found = list(read_entries(str(path), str(path), LIMIT))
    uris = [entry.uri for entry in found]
    assert found, "a container gives at least a reject for itself"
    assert len(uris) == len(set(uris)), "every entry has a name of its own"
    assert uris == [entry.uri for entry in read_entries(str(path), str(path), LIMIT)], "the same on every read"
    container = document_uri(str(path))
    assert all(uri == container or uri.startswith(container + "#") for uri in uris)
    assert all(file_of(uri) == str(path) for uri in uris)
    for entry in found:
        assert entry.failure is None or (entry.failure.reason and not entry.data), "read, or a reject with a reason"
    return found


def zip_bytes(members, dates) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for (name, data), date in zip(members, dates):
            archive.writestr(zipfile.ZipInfo(name, date_time=date), data)
    return buffer.getvalue()


# A DOS date of zeros (no month, no day) among real ones.
DATES = st.sampled_from([(1980, 0, 0, 0, 0, 0), (2024, 3, 2, 10, 0, 0), (1980, 1, 1, 0, 0, 0)])


@FUZZ
@given(members=st.lists(st.tuples(NAMES, TEXTS), min_size=1, max_size=6), data=st.data(), harm=damage())
def test_zip_reading_always_finishes_with_one_name_per_entry(folder, members, data, harm):
    dates = data.draw(st.lists(DATES, min_size=len(members), max_size=len(members)))
    intact = zip_bytes(members, dates)
    found = read_twice(folder, "fuzz.zip", damaged(intact, harm))
    if harm == (None, []):
        assert len(found) == len(members) and all(entry.failure is None for entry in found)


def tar_bytes(parts, compression: str) -> bytes:
    data = appended_tar(*parts)
    return {"": data, "gz": gzip.compress(data)}.get(compression) or _bz2(data)


def _bz2(data: bytes) -> bytes:
    import bz2

    return bz2.compress(data)


@FUZZ
@given(parts=st.lists(st.dictionaries(NAMES, TEXTS, min_size=1, max_size=3), min_size=1, max_size=3),
       compression=st.sampled_from(["", "gz", "bz2"]), harm=damage())
def test_tar_reading_always_finishes_with_one_name_per_entry(folder, parts, compression, harm):
    name = "fuzz.tar" + (f".{compression}" if compression else "")
    found = read_twice(folder, name, damaged(tar_bytes(parts, compression), harm))
    if harm == (None, []):
        assert len(found) == sum(map(len, parts)) and all(entry.failure is None for entry in found)


@st.composite
def warc_records(draw):
    count = draw(st.integers(1, 5))
    return [raw_warc_record(f"https://port.example/{n}", b"<p>" + draw(TEXTS) + b"</p>", draw(RECORD_IDS))
            for n in range(count)]


def lie(records: list[bytes], which: int, delta: int) -> list[bytes]:
    from hostile_corpus import wrong_content_length

    return [wrong_content_length(record, delta) if n == which else record for n, record in enumerate(records)]


@FUZZ
@given(records=warc_records(), gzipped=st.booleans(), which=st.integers(0, 4), delta=st.integers(-300, 300),
       harm=damage())
def test_warc_reading_always_finishes_with_one_name_per_record(folder, records, gzipped, which, delta, harm):
    join = gzip_members if gzipped else b"".join
    data = join(lie(records, which, delta))
    found = read_twice(folder, "fuzz.warc.gz" if gzipped else "fuzz.warc", damaged(data, harm))
    if harm == (None, []) and (delta == 0 or which >= len(records)):
        assert len(found) == len(records) and all(entry.failure is None for entry in found)


@FUZZ
@given(records=warc_records(), which=st.integers(0, 4), delta=st.integers(-300, 300).filter(bool))
def test_a_lying_record_costs_only_itself_in_a_gzipped_warc(folder, records, which, delta):
    which = which % len(records)
    found = read_twice(folder, "lying.warc.gz", gzip_members(lie(records, which, delta)))
    assert len(found) == len(records)
    read = [entry.failure is None for entry in found]
    assert read[:which] + read[which + 1:] == [True] * (len(records) - 1)
    # A length 1-4 bytes too long takes only the blank line after the record: its text is whole.
    assert not read[which] or 0 < delta <= 4


LINES = st.one_of(
    TEXTS.map(lambda text: json.dumps({"text": text.decode()})),
    st.just('{"text": "lone \\ud800"}'),
    st.integers(1_000, 20_000).map(lambda depth: "[" * depth + "]" * depth),
    st.just("{broken"),
    st.text(max_size=30),
)


@FUZZ
@given(lines=st.lists(LINES, min_size=1, max_size=6), harm=damage())
def test_jsonl_reading_always_finishes_with_one_entry_per_line(folder, lines, harm):
    data = "\n".join(lines).encode("utf-8", "surrogatepass")
    found = read_twice(folder, "fuzz.jsonl", damaged(data, harm))
    if harm == (None, []):
        written = [str(n) for n, line in enumerate(data.split(b"\n"), start=1) if line.strip()]
        assert [entry.uri.rsplit("#line-", 1)[-1] for entry in found] == (written or [str(folder / "fuzz.jsonl")])


@settings(max_examples=200, deadline=None)
@given(first=st.text(), second=st.text(), entry=st.text())
def test_file_names_map_to_document_names_one_to_one(first, second, entry):
    assert file_of(document_uri(first)) == first and file_of(document_uri(first, entry)) == first
    assert "#" not in document_uri(first)
    if first != second:
        assert document_uri(first) != document_uri(second)
        assert document_uri(first, entry) != document_uri(second, entry)


# ---------------------------------------------------------------------------------------------
# One real run over the poison containers
# ---------------------------------------------------------------------------------------------


@pytest.mark.slow  # a real run per case: in test-all
def test_a_run_over_poison_containers_finishes_with_every_document_in_exactly_one_table(tmp_path):
    dump, out = tmp_path / "dump", tmp_path / "out"
    dump.mkdir()
    expected: dict[str, tuple[set[str], str]] = {}

    def put(name: str, data, tables: set[str], reason: str = "") -> None:
        (dump / name).write_bytes(data.encode() if isinstance(data, str) else data)
        expected[name] = (tables, reason)

    write_poison_containers(put, expected, 4 << 20)
    result = run_cli(dump, "--output", out, "--max-document-bytes", 4 << 20, check=False)
    assert result.returncode == 0, result.stderr[-3000:]
    found: dict[str, list[tuple[str, str]]] = {}
    for table in (ARTICLES, DUPLICATES, REJECTS):
        for row in open_table(str(out), table).to_table().to_pylist():
            found.setdefault(row["source_uri"].split(f"{dump}/", 1)[1], []).append((table, row.get("reason") or ""))
    assert sorted(found) == sorted(expected)
    assert all(len(rows) == 1 for rows in found.values()), {k: v for k, v in found.items() if len(v) > 1}
    for name, (tables, reason) in expected.items():
        [(table, why)] = found[name]
        assert table in ({ARTICLES, DUPLICATES} if ARTICLES in tables else tables), (name, table, why)
        assert reason in why, (name, why)
