"""Inputs that must not be opened, names that must not alias, outputs that make no sense, and secrets that
must not reach the tables: each checked on a real run, the tables read back."""
import http.server
import os
import pathlib
import threading

import pyarrow.parquet as pq
import pytest
from cli_runs import rows_by_name, run_cli

from pipelines import exits
from schemas.tables import ARTICLES, REJECTS
from storage.visible import open_table
from transforms.read import list_input, openable_uri, portable_uri

SENTENCES = {
    "Ness": "The harbour board met on Tuesday and approved a night ferry to the islands, officials said.",
    "Skye": "The harbour master kept private notes on the dredging contract and the cost of the new crane.",
    "Barra": "A new timetable gives the island three sailings a day in summer and two in winter months.",
    "Rum": "Volunteers counted red deer on the hills of the island over the weekend for the annual survey.",
    "Eigg": "The opening of the rebuilt pier was delayed by a month after storms damaged the scaffolding.",
    "Coll": "Harbour dues will rise by four per cent next year to pay for repairs to the breakwater wall.",
}


def _story(title: str, place: str = "Ness") -> str:
    return f"{title}\n\n{SENTENCES[place]}\n\nThe council of {place} will discuss it again at its next meeting.\n"


def _all_uris(out: pathlib.Path) -> dict[str, str]:
    """source_uri -> the table it is in, over articles, duplicates and rejects."""
    found = {}
    for table in (ARTICLES, "duplicates", REJECTS):
        for uri in open_table(str(out), table).to_table(columns=["source_uri"]).column("source_uri").to_pylist():
            assert uri not in found, f"{uri} is in {found[uri]} and {table}"
            found[uri] = table
    return found


@pytest.fixture(scope="module")
def tricky_run(tmp_path_factory):
    root = tmp_path_factory.mktemp("tricky")
    dump, outside = root / "dump", root / "elsewhere"
    (dump / "sub").mkdir(parents=True)
    outside.mkdir()
    (outside / "private.txt").write_text(_story("Private notes of the harbour master", "Skye"))
    (dump / "plain.txt").write_text(_story("Night ferry approved"))
    (dump / "inside-link.txt").symlink_to(dump / "plain.txt")
    (dump / "outside-link.txt").symlink_to(outside / "private.txt")
    os.mkfifo(dump / "pipe.txt")
    (dump / "a::b.txt").write_text(_story("Ferry timetable published", "Barra"))
    (dump / "a").write_text(_story("Deer counted on the hills", "Rum"))
    (dump / "name-%E9.txt").write_text(_story("Pier opening delayed", "Eigg"))
    os.close(os.open(os.fsencode(dump) + b"/name-\xe9.txt", os.O_WRONLY | os.O_CREAT))
    (pathlib.Path(os.fsdecode(os.fsencode(dump) + b"/name-\xe9.txt"))).write_text(
        _story("Harbour dues to rise", "Coll"))
    out = dump / "sub" / "out"  # the output inside the dump, the dump named through ".."
    result = run_cli(dump / "sub" / "..", "--output", out, timeout=900)
    return dump, out, result


@pytest.mark.slow  # a real run per case: in test-all
def test_every_file_is_in_exactly_one_table_under_one_normal_name(tricky_run):
    _, out, _ = tricky_run
    names = {uri.rsplit("/", 1)[1]: table for uri, table in _all_uris(out).items()}
    assert sorted(names) == sorted(["plain.txt", "inside-link.txt", "outside-link.txt", "pipe.txt", "a::b.txt", "a",
                                    "name-%2525E9.txt", "name-%E9.txt"])
    assert not any("/../" in uri or "/out/" in uri for uri in _all_uris(out))  # not its own lock or tables


@pytest.mark.slow  # a real run per case: in test-all
def test_a_pipe_and_a_link_out_of_the_input_are_rejected_unopened(tricky_run):
    _, out, _ = tricky_run
    rejects = rows_by_name(out, REJECTS)
    assert rejects["pipe.txt"]["reason"] == "not a regular file (a named pipe, socket or device): not opened"
    assert rejects["outside-link.txt"]["reason"] == "symbolic link to a file outside the input: not followed"
    texts = " ".join(row["text"] for row in open_table(str(out), ARTICLES).to_table().to_pylist())
    assert "Skye" not in texts


@pytest.mark.slow  # a real run per case: in test-all
def test_names_that_used_to_alias_are_read_as_themselves(tricky_run):
    _, out, _ = tricky_run
    kept = {**rows_by_name(out, ARTICLES), **rows_by_name(out, "duplicates")}
    articles = rows_by_name(out, ARTICLES)
    assert "Barra" in articles["a::b.txt"]["text"]  # not the file "a"
    assert "Rum" in articles["a"]["text"]
    assert "Eigg" in articles["name-%2525E9.txt"]["text"]  # the file really named "%E9"
    assert "Coll" in articles["name-%E9.txt"]["text"]  # the file with the byte 0xE9
    assert kept["inside-link.txt"]  # a link inside the input is followed


def test_portable_names_round_trip():
    for name in ("/d/name-%E9.txt", "/d/name-\udce9.txt", "/d/100%25.txt", "/d/a%20b.txt", "/d/%e9.txt"):
        uri = portable_uri("file://" + name)
        assert openable_uri(uri) == "file://" + name
    assert len({portable_uri("file:///d/name-%E9.txt"), portable_uri("file:///d/name-\udce9.txt")}) == 2


@pytest.mark.parametrize("output", ["/", "{dump}", "{dump}/..", "{dump}/sub/../.."])
def test_an_output_that_holds_the_input_is_a_usage_error(tmp_path, output):
    dump = tmp_path / "dump"
    dump.mkdir()
    (dump / "plain.txt").write_text(_story("Night ferry approved"))
    result = run_cli(dump, "--output", output.format(dump=dump), check=False)
    assert result.returncode == exits.USAGE
    assert "is inside the output" in result.stderr
    assert not (dump / "_runs").exists() and not (tmp_path / "_runs").exists()


class _SignedOnly(http.server.BaseHTTPRequestHandler):
    """Serves a story only to requests signed with the right token, as a presigned URL would."""

    def do_GET(self):
        if "token=SECRET-TOKEN-42" not in self.path or "X-Amz-Signature=SIG-99" not in self.path:
            self.send_response(403)
            self.end_headers()
            return
        body = _story("Signed story about the ferry").encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_HEAD(self):
        self.send_response(200 if "token=SECRET-TOKEN-42" in self.path else 403)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.mark.slow  # a real run per case: in test-all
def test_a_signed_url_is_read_but_its_secrets_are_stored_nowhere(tmp_path):
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _SignedOnly)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        base = f"http://127.0.0.1:{server.server_address[1]}/story.txt"
        result = run_cli(f"{base}?lang=en&token=SECRET-TOKEN-42&X-Amz-Signature=SIG-99", "--output", tmp_path / "out")
    finally:
        server.shutdown()
    [article] = open_table(str(tmp_path / "out"), ARTICLES).to_table().to_pylist()
    assert article["source_uri"] == f"{base}?lang=en"
    stored = [result.stdout, result.stderr]
    for path in (tmp_path / "out").rglob("*"):
        if path.is_file():
            stored.append(str(pq.read_table(path).to_pylist()) if path.suffix == ".parquet"
                          else path.read_bytes().decode("utf-8", "replace"))
    assert not [text for text in stored if "SECRET-TOKEN" in text or "SIG-99" in text]


@pytest.mark.parametrize("url", ["simplecache::http://user:pw@127.0.0.1:9/a.txt", "http://APIKEY123@127.0.0.1:9/a.txt"])
def test_credentials_in_any_part_of_a_url_are_refused(tmp_path, url):
    result = run_cli(url, "--output", tmp_path / "out", check=False)
    assert result.returncode == exits.USAGE and "credentials" in result.stderr
    assert not (tmp_path / "out").exists()


def test_listing_normalises_dot_dot(tmp_path):
    (tmp_path / "sub").mkdir()
    (tmp_path / "b.txt").write_text("x")
    [file] = list_input(str(tmp_path / "sub" / ".." / "b.txt"))
    assert file.uri == f"file://{tmp_path}/b.txt"


def test_a_link_named_on_the_command_line_is_followed_and_one_found_in_a_folder_is_not(tmp_path):
    (tmp_path / "elsewhere.txt").write_text(_story("Harbour dues to rise", "Coll"))
    (tmp_path / "dump").mkdir()
    (tmp_path / "dump" / "link.txt").symlink_to(tmp_path / "elsewhere.txt")
    [named] = list_input(str(tmp_path / "dump" / "link.txt"))
    [found] = list_input(str(tmp_path / "dump"))
    assert named.refused is None
    assert found.refused == "symbolic link to a file outside the input: not followed"
