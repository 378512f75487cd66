"""The one source of truth for every output table: names, columns, types and partitioning.

Every other module refers to columns through these schemas; nothing else names a column.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json

import pyarrow as pa

ARTICLES = "articles"
DUPLICATES = "duplicates"
REJECTS = "rejects"
TABLES = (ARTICLES, DUPLICATES, REJECTS)  # every input document is in exactly one of these
ENTITIES = "entities"  # one row per (article, canonical entity): `articles.entities` without unnesting
DATE_PARTITIONED = (ARTICLES, ENTITIES)  # by the article's publication year and month

# Hive partition folder for rows without a publication date. Spark, pyarrow and DuckDB read this
# conventional value back as NULL, so `WHERE year IS NULL` finds the undated articles.
NULL_PARTITION = "__HIVE_DEFAULT_PARTITION__"

MEANING = b"description"  # the field metadata key holding a column's meaning (`newsflow schema` prints it)


def column(name: str, type_: pa.DataType, meaning: str, nullable: bool = True) -> pa.Field:
    """A table column with its meaning, which `newsflow schema` and the README's tables print."""
    return pa.field(name, type_, nullable=nullable, metadata={MEANING: meaning})


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
    column("ingested_at", pa.timestamp("us", tz="UTC"), "when the run that wrote the row started (UTC)", False),
    column("run_id", pa.string(), "the run that wrote the row (its summary is _runs/<run_id>.json)", False),
    column("pipeline_version", pa.string(), "newsflow's version in that run", False),
]

# `articles` and `entities` are partitioned by publication year and month; the other tables are small.
ARTICLES_PARTITION_SCHEMA = pa.schema([
    column("year", pa.int32(), "publication year (a Hive partition folder; NULL for undated articles)"),
    column("month", pa.int32(), "publication month, 1-12 (a Hive partition folder; NULL for undated articles)"),
])

# pandas reads a Hive folder through pyarrow, which infers the partition columns as dictionaries: the NULL
# partition of undated articles then fails ("Cannot yet unify dictionaries with nulls"), and dated ones come
# out as categories. The pandas metadata of the Arrow-pandas convention (what pandas writes in its own files)
# names their type, so that `pd.read_parquet(folder)` reads them as nullable int32 columns. Other readers
# ignore it.
PANDAS_PARTITION_TYPES = {b"pandas": json.dumps({
    "index_columns": [], "column_indexes": [], "creator": {"library": "newsflow"},
    "columns": [{"name": name, "field_name": name, "pandas_type": "int32", "numpy_type": "int32[pyarrow]",
                 "metadata": None} for name in ARTICLES_PARTITION_SCHEMA.names],
}).encode()}

ARTICLES_SCHEMA = pa.schema(
    [
        column("doc_id", pa.string(), "content hash of the document's bytes (decompressed): same bytes, same id", False),
        column("source_uri", pa.string(), "absolute URI of the input file; `file#entry` for a WARC record, a JSON "
               "line or an archive member", False),
        column("url", pa.string(), "the page's web address, when the input says (WARC target URI, JSON Lines `url`)"),
        column("fetched_at", pa.timestamp("us", tz="UTC"), "when a crawler fetched the page (the WARC-Date)"),
        column("title", pa.string(), "the headline, without breadcrumbs"),
        column("text", pa.string(), "the clean body; paragraphs separated by a blank line", False),
        column("published_date", pa.date32(), "publication date, NULL when the page does not say"),
        column("date_source", pa.string(), "where the date came from: `dateline`, `byline`, `timestamp`, `header`, "
               "`url`, `path`, `html-markup` (meta tags, JSON-LD, `<time>`), `html-meta` (the HTML extractor's "
               "date), `declared` (a JSON Lines date), `fetched` (the WARC-Date: last resort), ...; `cluster`: the "
               "page had none and took the earliest reliable date of its duplicate cluster"),
        column("date_confidence", pa.float32(), "the date scorer's confidence, 0-1"),
        column("language", pa.string(), "ISO 639-1 code of the body's language"),
        column("encoding", pa.string(), "how the bytes were decoded, e.g. `utf-8` or `cp1252 (detected by "
               "charset-normalizer)`; `, mojibake repaired (ftfy)` when the text had been decoded wrongly before", False),
        column("entities", pa.list_(ENTITY), "named entities (text, label, canonical, start, end; spaCy's OntoNotes "
               "labels PERSON, ORG, GPE, LOC, NORP, ...) with a canonical name (IS, ISIS and Daesh are all `Islamic "
               "State`); start/end are character offsets into `text`, -1 for an entity named only in the title", False),
        column("mentioned_dates", pa.list_(MENTIONED_DATE), "every date the body mentions (text, start, end, date, "
               "granularity): absolute, year-less, weekdays, relative ('yesterday', 'last month'), as an ISO day or "
               "month; relative ones only when the article has a date", False),
        column("duplicate_count", pa.int32(), "how many other input documents of the same run are copies of this "
               "article", False),
        column("boilerplate_share", pa.float32(), "the share of the page's visible text removed as page chrome, 0-1: "
               "a source whose share drops from one dump to the next has changed its layout"),
        *_RUN_COLUMNS,
    ],
    metadata=PANDAS_PARTITION_TYPES,
)

DUPLICATES_SCHEMA = pa.schema(
    [
        column("doc_id", pa.string(), "content hash of the copy's bytes", False),
        column("source_uri", pa.string(), "absolute URI of the copy (`file#entry` inside a container)", False),
        column("duplicate_of", pa.string(), "the `doc_id` of the kept article in `articles` (possibly written by an "
               "earlier run)", False),
        column("kind", pa.string(), "`exact` (same normalised text) or `near` (MinHash LSH)", False),
        column("similarity", pa.float32(), "estimated Jaccard similarity of word 3-grams to the kept article (1.0 "
               "for exact)", False),
        column("url", pa.string(), "the copy's own web address, when the input says"),
        column("title", pa.string(), "the copy's own title"),
        column("published_date", pa.date32(), "the copy's own publication date"),
        *_RUN_COLUMNS,
    ]
)

REJECTS_SCHEMA = pa.schema(
    [
        column("source_uri", pa.string(), "the input (or the input pattern that could not be listed)", False),
        column("stage", pa.string(), "the stage that rejected it: `read`, `clean`, `dates`, `dedupe` (a copy of a page rejected before), `mentions`, `entities`",
               False),
        column("reason", pa.string(), "a sentence a person understands, stable enough to group by ('empty file', "
               "'binary file, not text', 'no article body found')", False),
        column("detail", pa.string(), "the specifics ('it looks like a PNG image (268 bytes)', the error message)",
               False),
        column("doc_id", pa.string(), "the content hash, when the bytes could be read"),
        *_RUN_COLUMNS,
    ]
)

# --- state: what a run leaves for the next runs under OUT/_state/ (not tables users query) -------------

STATE_FOLDER = "_state"
TEMPLATES = f"{STATE_FOLDER}/templates"  # per source, how many different stories print a line (transforms/templates.py)

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
        column("doc_id", pa.string(), "the article in `articles`", False),
        column("source_uri", pa.string(), "the article's input", False),
        column("canonical", pa.string(), "the entity's canonical name ('Islamic State' for IS, ISIS and Daesh)", False),
        column("label", pa.string(), "the label most of its mentions have (PERSON, ORG, GPE, ...)", False),
        column("mentions", pa.int32(), "how often the article names it", False),
        column("first_offset", pa.int32(), "where the text first names it (into `articles.text`); -1: in the title "
               "only", False),
        column("surfaces", pa.list_(pa.string()), "the spellings the article uses", False),
        column("published_date", pa.date32(), "the article's publication date"),
        *_RUN_COLUMNS,
    ],
    metadata=PANDAS_PARTITION_TYPES,
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


# --- what the tables a user queries are: `newsflow schema` and the README's tables print this ----------

TABLE_MEANINGS = {
    ARTICLES: "one row per kept article",
    ENTITIES: "one row per (article, canonical entity): `articles.entities` without unnesting",
    DUPLICATES: "one row per input document that copies a kept article",
    REJECTS: "one row per input document that could not become an article",
}


def type_name(type_: pa.DataType) -> str:
    """A column type as a reader sees it: 'list<struct<text, label, ...>>', 'timestamp (UTC)'."""
    if pa.types.is_list(type_):
        return f"list<{type_name(type_.value_type)}>"
    if pa.types.is_struct(type_):
        return f"struct<{', '.join(field.name for field in type_)}>"
    if pa.types.is_timestamp(type_):
        return f"timestamp ({type_.tz})" if type_.tz else "timestamp"
    if pa.types.is_date32(type_):
        return "date"
    if pa.types.is_float32(type_):
        return "float32"
    return str(type_)


def described_columns(table: str) -> list[tuple[str, str, str]]:
    """(name, type, meaning) of each column of a queried table, the partition columns last."""
    fields = [*SCHEMAS[table], *(ARTICLES_PARTITION_SCHEMA if table in DATE_PARTITIONED else ())]
    return [(field.name, type_name(field.type), (field.metadata or {}).get(MEANING, b"").decode())
            for field in fields]
