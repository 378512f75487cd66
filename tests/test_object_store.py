"""Object stores: a dump in S3 (a local S3-compatible server, moto's, started by the test) read through
fsspec/s3fs, with the credentials coming only from the standard AWS environment variables.

- listing thousands of keys (S3 pages its listings by 1,000);
- a real run over a bucket prefix, read back with pyarrow: the same tables as from the local folder;
- an object that cannot be read (archived in GLACIER) lands in `rejects` with its reason;
- the secret key appears nowhere: not in the output, the logs, the run summary or the reject details.
"""
import logging
import os
import pathlib
import socket

import pytest
from cli_runs import ROOT, run_cli

from schemas.tables import ARTICLES, DUPLICATES, REJECTS
from storage.visible import open_table
from transforms.read import expand_input

pytestmark = pytest.mark.slow  # a local S3 server: moto and s3fs come with the slow extra (`make test-all`)

SECRET = "newsflow-test-secret-9f3c"
BUCKET = "news-dumps"
MANY_KEYS = 2500


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def s3(tmp_path_factory):
    moto_server = pytest.importorskip("moto.server")
    boto3 = pytest.importorskip("boto3")
    pytest.importorskip("s3fs")
    server = moto_server.ThreadedMotoServer(ip_address="127.0.0.1", port=_free_port(), verbose=False)
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # one line per request otherwise
    server.start()
    host, port = server.get_host_and_port()
    env = {"AWS_ACCESS_KEY_ID": "newsflow-test", "AWS_SECRET_ACCESS_KEY": SECRET, "AWS_DEFAULT_REGION": "us-east-1",
           "AWS_ENDPOINT_URL": f"http://{host}:{port}"}
    saved = {name: os.environ.get(name) for name in env}
    os.environ.update(env)
    client = boto3.client("s3")
    client.create_bucket(Bucket=BUCKET)
    for path in sorted((ROOT / "samples").glob("dump/**/*")) + sorted((ROOT / "samples").glob("formats/*")):
        if path.is_file():
            client.put_object(Bucket=BUCKET, Key=str(path.relative_to(ROOT / "samples")), Body=path.read_bytes())
    client.put_object(Bucket=BUCKET, Key="dump/cold/archived.txt", Body=b"An old story, archived.",
                      StorageClass="GLACIER")
    for number in range(MANY_KEYS):
        client.put_object(Bucket=BUCKET, Key=f"many/{number:05d}.txt", Body=b"x")
    yield client, tmp_path_factory.mktemp("s3")
    server.stop()
    for name, value in saved.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value


def test_listing_thousands_of_keys(s3):
    uris = expand_input(f"s3://{BUCKET}/many/")
    assert len(uris) == MANY_KEYS == len(set(uris))
    assert uris[0] == f"s3://{BUCKET}/many/00000.txt"


@pytest.fixture(scope="module")
def bucket_run(s3):
    _, tmp = s3
    out = tmp / "out"
    result = run_cli(f"s3://{BUCKET}/dump/", f"s3://{BUCKET}/formats/", "--output", out)
    return out, result


def test_a_run_over_a_bucket_gives_the_tables_of_a_local_run(bucket_run):
    out, _ = bucket_run
    articles = open_table(str(out), ARTICLES).to_table(columns=["source_uri"]).column(0).to_pylist()
    copies = open_table(str(out), DUPLICATES).to_table(columns=["source_uri"]).column(0).to_pylist()
    assert all(uri.startswith(f"s3://{BUCKET}/") for uri in articles + copies)
    # samples/dump: 10 articles + 2 copies; samples/formats: 5 + 2 (tests/test_containers.py).
    assert (len(articles), len(copies)) == (15, 4)


def test_an_object_that_cannot_be_read_is_a_reject_with_its_reason(bucket_run):
    out, _ = bucket_run
    rejects = {row["source_uri"]: row for row in open_table(str(out), REJECTS).to_table().to_pylist()}
    archived = rejects[f"s3://{BUCKET}/dump/cold/archived.txt"]
    assert archived["reason"].startswith("file could not be read")
    assert "storage class" in archived["detail"]


def test_the_secret_key_appears_nowhere(bucket_run):
    out, result = bucket_run
    assert SECRET not in result.stdout + result.stderr
    for path in pathlib.Path(out).rglob("*"):
        if path.is_file():
            assert SECRET.encode() not in path.read_bytes(), path


def test_credentials_in_a_url_are_refused(tmp_path):
    result = run_cli(f"s3://user:{SECRET}@{BUCKET}/dump/", "--output", tmp_path / "out", check=False)
    assert result.returncode != 0
    assert "credentials" in result.stderr and SECRET not in result.stderr + result.stdout
