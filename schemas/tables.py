"""The one source of truth for every output table: names, columns, types and partitioning.

Every other module refers to columns through these schemas; nothing else names a column.
"""
from __future__ import annotations

import datetime as dt
import hashlib

import pyarrow as pa
import pyarrow.dataset as ds

ARTICLES = "articles"
DUPLICATES = "duplicates"
REJECTS = "rejects"
TABLES = (ARTICLES, DUPLICATES, REJECTS)  # every input document is in exactly one of these
ENTITIES = "entities"  # one row per (article, canonical entity): `articles.entities` without unnesting
DATE_PARTITIONED = (ARTICLES, ENTITIES)  # by the article's publication year and month

# Hive partition folder for rows without a publication date. Spark, pyarrow and DuckDB read this
# conventional value back as NULL, so `WHERE year IS NULL` finds the undated articles.
NULL_PARTITION = "__HIVE_DEFAULT_PARTITION__"

ENTITY = pa.struct(
    [
        pa.field("text", pa.string(), nullable=False),
        pa.field("label", pa.string(), nullable=False),
        pa.field("canonical", pa.string(), nullable=False),
        pa.field("start", pa.int32(), nullable=False),  # character offsets into `text`
        pa.field("end", pa.int32(), nullable=False),
    ]
)

MENTIONED_DATE = pa.struct(
    [
        pa.field("text", pa.string(), nullable=False),  # as written: "last month", "Friday", "3 March 2017"
        pa.field("start", pa.int32(), nullable=False),  # character offsets into `text`
        pa.field("end", pa.int32(), nullable=False),
        pa.field("date", pa.string(), nullable=False),  # ISO day "2017-03-03" or month "2017-03"
        pa.field("granularity", pa.string(), nullable=False),  # "day" or "month"
    ]
)

_RUN_COLUMNS = [
    pa.field("ingested_at", pa.timestamp("us", tz="UTC"), nullable=False),
    pa.field("run_id", pa.string(), nullable=False),
    pa.field("pipeline_version", pa.string(), nullable=False),
]

ARTICLES_SCHEMA = pa.schema(
    [
        pa.field("doc_id", pa.string(), nullable=False),
        pa.field("source_uri", pa.string(), nullable=False),  # "file#record-id" for a WARC record
        pa.field("url", pa.string()),  # the page's web address, when the input says (WARC, JSON Lines)
        pa.field("fetched_at", pa.timestamp("us", tz="UTC")),  # the WARC-Date of a crawled page
        pa.field("title", pa.string()),
        pa.field("text", pa.string(), nullable=False),
        pa.field("published_date", pa.date32()),
        pa.field("date_source", pa.string()),
        pa.field("date_confidence", pa.float32()),
        pa.field("language", pa.string()),
        pa.field("encoding", pa.string(), nullable=False),
        pa.field("entities", pa.list_(ENTITY), nullable=False),
        pa.field("mentioned_dates", pa.list_(MENTIONED_DATE), nullable=False),
        pa.field("duplicate_count", pa.int32(), nullable=False),
        # The share of the page's visible text removed as page chrome: a source whose share drops from one
        # dump to the next has changed its layout, and its chrome may be leaking into the bodies.
        pa.field("boilerplate_share", pa.float32()),
        *_RUN_COLUMNS,
    ]
)

DUPLICATES_SCHEMA = pa.schema(
    [
        pa.field("doc_id", pa.string(), nullable=False),
        pa.field("source_uri", pa.string(), nullable=False),
        pa.field("duplicate_of", pa.string(), nullable=False),  # a doc_id in `articles`
        pa.field("kind", pa.string(), nullable=False),  # "exact" or "near"
        pa.field("similarity", pa.float32(), nullable=False),
        pa.field("url", pa.string()),
        pa.field("title", pa.string()),
        pa.field("published_date", pa.date32()),
        *_RUN_COLUMNS,
    ]
)

REJECTS_SCHEMA = pa.schema(
    [
        pa.field("source_uri", pa.string(), nullable=False),
        pa.field("stage", pa.string(), nullable=False),
        pa.field("reason", pa.string(), nullable=False),
        pa.field("detail", pa.string(), nullable=False),
        pa.field("doc_id", pa.string()),
        *_RUN_COLUMNS,
    ]
)

# --- state: what a run leaves for the next runs under OUT/_state/ (not tables users query) -------------

STATE_FOLDER = "_state"
TEMPLATES = "templates"  # per source, how many different stories print a line (transforms/templates.py)

TEMPLATES_SCHEMA = pa.schema(
    [
        pa.field("source", pa.string(), nullable=False),
        pa.field("line_key", pa.int64(), nullable=False),  # 0: the sketch of all the source's stories
        # A distinct-count sketch of the stories (k smallest 64-bit hashes of their ids): merging two runs'
        # sketches is idempotent, so re-running a dump does not inflate the counts.
        pa.field("stories", pa.list_(pa.uint64()), nullable=False),
    ]
)

MANIFEST = f"{STATE_FOLDER}/manifest"  # every input file a run read: what the next runs need not read again

MANIFEST_SCHEMA = pa.schema(
    [
        pa.field("uri", pa.string(), nullable=False),  # the file (a container's entries are in the tables)
        pa.field("size", pa.int64()),
        pa.field("version", pa.string()),  # the store's ETag or generation, else the modification time
        pa.field("content_hash", pa.string(), nullable=False),  # see transforms/read.py `manifest_row`
        pa.field("documents", pa.int32(), nullable=False),  # rows it gave in articles/duplicates/rejects
        *_RUN_COLUMNS,
    ]
)

# --- the cross-run index: what later runs look up instead of re-reading earlier data -----------------
# Append-only (each run adds its files), partitioned by a hash shard of the looked-up column, so that a
# lookup reads one shard's files and, in them, only the row groups whose statistics can hold its keys.

INDEX_FOLDER = "_index"
INDEX_SHARDS = 16
INDEX_DOCUMENTS = f"{INDEX_FOLDER}/documents"  # every input document a run wrote a row for
INDEX_KEYS = f"{INDEX_FOLDER}/keys"  # content hash and LSH band keys of kept articles and near copies
INDEX_ARTICLES = f"{INDEX_FOLDER}/articles"  # what verifying a near duplicate needs of a kept article or copy
INDEX_TABLES = (INDEX_DOCUMENTS, INDEX_KEYS, INDEX_ARTICLES)

INDEX_DOCUMENTS_SCHEMA = pa.schema(
    [
        pa.field("source_uri", pa.string(), nullable=False),
        pa.field("doc_id", pa.string(), nullable=False),  # "" for a file that could not be read
        pa.field("run_id", pa.string(), nullable=False),
    ]
)
INDEX_KEYS_SCHEMA = pa.schema(
    [
        pa.field("key", pa.binary(), nullable=False),  # b"=" + content hash, or band byte + band hash
        pa.field("doc_id", pa.string(), nullable=False),
    ]
)
INDEX_ARTICLES_SCHEMA = pa.schema(
    [
        pa.field("doc_id", pa.string(), nullable=False),
        # For a near copy: the kept article it points at. A later copy of the copy points there too.
        pa.field("duplicate_of", pa.string()),
        pa.field("content_hash", pa.string(), nullable=False),
        pa.field("published_date", pa.date32()),
        pa.field("length", pa.int64(), nullable=False),
        pa.field("signature", pa.binary(), nullable=False),
        pa.field("numbers", pa.list_(pa.string()), nullable=False),
    ]
)
# The column each index table is looked up by, and sharded on.
INDEX_LOOKUP_COLUMN = {INDEX_DOCUMENTS: "source_uri", INDEX_KEYS: "key", INDEX_ARTICLES: "doc_id"}

ENTITIES_SCHEMA = pa.schema(
    [
        pa.field("doc_id", pa.string(), nullable=False),  # the article in `articles`
        pa.field("source_uri", pa.string(), nullable=False),
        pa.field("canonical", pa.string(), nullable=False),  # "Islamic State" for IS, ISIS and Daesh
        pa.field("label", pa.string(), nullable=False),  # the label most of its mentions have
        pa.field("mentions", pa.int32(), nullable=False),  # how often the article names it
        pa.field("first_offset", pa.int32(), nullable=False),  # into `articles.text`; -1: in the title only
        pa.field("surfaces", pa.list_(pa.string()), nullable=False),  # the spellings the article uses
        pa.field("published_date", pa.date32()),
        *_RUN_COLUMNS,
    ]
)

SCHEMAS = {
    ARTICLES: ARTICLES_SCHEMA,
    ENTITIES: ENTITIES_SCHEMA,
    DUPLICATES: DUPLICATES_SCHEMA,
    REJECTS: REJECTS_SCHEMA,
    TEMPLATES: TEMPLATES_SCHEMA,
    MANIFEST: MANIFEST_SCHEMA,
    INDEX_DOCUMENTS: INDEX_DOCUMENTS_SCHEMA,
    INDEX_KEYS: INDEX_KEYS_SCHEMA,
    INDEX_ARTICLES: INDEX_ARTICLES_SCHEMA,
}


def step_name(table: str) -> str:
    """A table's name as it reads in Beam step labels: "_index/keys" -> "IndexKeys"."""
    return "".join(part.strip("_").title() for part in table.split("/"))


def index_shard(value: str | bytes) -> int:
    """The index shard of a lookup value (stable across runs and machines)."""
    data = value.encode() if isinstance(value, str) else value
    return int.from_bytes(hashlib.blake2b(data, digest_size=4).digest(), "little") % INDEX_SHARDS

# `articles` and `entities` are partitioned by publication year and month; the other tables are small.
ARTICLES_PARTITION_SCHEMA = pa.schema([pa.field("year", pa.int32()), pa.field("month", pa.int32())])


def partition_path(table: str, row: dict) -> str:
    """The Hive partition folder of a row, e.g. 'year=2017/month=1' ('' for unpartitioned tables)."""
    if table in INDEX_LOOKUP_COLUMN:
        return f"shard={index_shard(row[INDEX_LOOKUP_COLUMN[table]])}"
    if table not in DATE_PARTITIONED:
        return ""
    published: dt.date | None = row["published_date"]
    if published is None:
        return f"year={NULL_PARTITION}/month={NULL_PARTITION}"
    # No zero padding: DuckDB reads "month=01" as text but "month=1" as a number, like pyarrow and Spark.
    return f"year={published.year}/month={published.month}"


def open_table(output: str, table: str, filesystem=None) -> ds.Dataset:
    """A pyarrow dataset over one output table (partition columns typed, undated rows as NULL)."""
    partitioning = ds.partitioning(ARTICLES_PARTITION_SCHEMA, flavor="hive") if table in DATE_PARTITIONED else None
    return ds.dataset(
        f"{output.rstrip('/')}/{table}",
        format="parquet",
        partitioning=partitioning,
        filesystem=filesystem,
        exclude_invalid_files=False,
    )
