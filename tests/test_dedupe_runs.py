"""Duplicate clusters on real pipeline runs, read back from Parquet: the same verdict for every copy of
one page, the same clusters whatever the workers and the order of the inputs, no two stories merged by
the page chrome they share, and never a garbled copy kept for clean ones.

Every text here is fictional, made up by `prose` from invented names.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import pathlib
import random

import apache_beam as beam
from apache_beam.options.pipeline_options import PipelineOptions
from apache_beam.testing.test_pipeline import TestPipeline as BeamTestPipeline
from cli_runs import dataset_content, rows_by_name, run_cli

from schemas.records import Document, RejectRow
from schemas.tables import ARTICLES, DUPLICATES, REJECTS
from transforms.dedupe import Deduplicate, garbled_marks
from transforms.identity import page_key

SENTENCES = (
    "The {a} council of {b} said on {c} that the {d} plan would help the {e} quay and its workers.",
    "{a} residents asked why the {b} ferry still stops at {c} when the {d} pier is closed for repairs.",
    "According to {a}, the {b} cooperative lost two contracts to {c} after the {d} storm last winter.",
    "Engineers from {a} expect the {b} bridge over the {c} river to reopen before the {d} festival.",
    "Mayor {a} {b} promised a vote on the {c} budget once the {d} audit is published next month.",
    "Fishermen in {a} blamed the {b} company for the nets they found torn near {c} and {d}.",
)
SYLLABLES = ["ka", "lo", "mer", "vin", "dal", "or", "sen", "tu", "bra", "gel", "fi", "nor", "ash", "pel", "rud"]


def prose(topic: str, paragraphs: int, sentences: int = 3) -> list[str]:
    """`paragraphs` paragraphs about `topic` (a seed): English glue, invented names, few shared triples."""
    rng = random.Random(topic)

    def name() -> str:
        return "".join(rng.choice(SYLLABLES) for _ in range(3)).title()

    return [
        " ".join(rng.choice(SENTENCES).format(a=name(), b=name(), c=name(), d=name(), e=name())
                 for _ in range(sentences))
        for _ in range(paragraphs)
    ]


def page(title: str, paragraphs: list[str], header: str = "", footer: str = "") -> str:
    return f"{header}{title}\n\n" + "\n\n".join(paragraphs) + f"\n\n{footer}"


def write(folder: pathlib.Path, files: dict[str, str | bytes]) -> pathlib.Path:
    for name, content in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content if isinstance(content, bytes) else content.encode())
    return folder


# A site whose pages end in a long feed of teasers: longer than each story, so without template learning
# two of its stories are mostly the same words.
FEED = "More from the Harbour Post\n\n" + "\n\n".join(prose("harbour post feed", 6, 4)) + "\n\nHome | News | Sport\n"
HEADER = "Harbour Post | Local news since 1911\n\n"


def harbour_post_dump(root: pathlib.Path, teasers_page: bool = False) -> pathlib.Path:
    """One site's stories under its feed, their copies by another outlet and the wire, byte-identical and
    whitespace-only copies in other folders; with `teasers_page`, a page that is nothing but the feed."""
    stories = {f"story-{i}": prose(f"story {i}", 3) for i in range(5)}
    pages = {f"harbour-post/{name}.txt": page(f"Harbour story {name}", body, HEADER, FEED)
             for name, body in stories.items()}
    files: dict[str, str | bytes] = {
        **pages,
        "quay-times/copy-of-story-1.txt": page("Quay Times: story 1", stories["story-1"][:2] + prose("quay note", 1)),
        "wire/wire-story-2.txt": page("STORY 2", stories["story-2"]),
        # The same bytes in a folder that knows nothing of the Harbour Post's feed.
        "quay-times/same-bytes-as-story-3.txt": pages["harbour-post/story-3.txt"],
        "wire/crlf-story-4.txt": pages["harbour-post/story-4.txt"].replace("\n", "\r\n"),
        "wire/tabs-story-4.txt": pages["harbour-post/story-4.txt"].replace("\n\n", "\n\n\t"),
    }
    if teasers_page:
        files["harbour-post/a-teasers.txt"] = page("Harbour Post teasers", [], HEADER, FEED)
    return write(root, files)


def test_the_same_dump_gives_the_same_clusters_on_any_workers_bundles_and_input_order(tmp_path):
    dump = harbour_post_dump(tmp_path / "dump", teasers_page=True)
    runs = {
        # One worker, one bundle per stage.
        "one worker": (dump, "--direct_running_mode=in_memory", "--direct_num_workers=1"),
        # Two and three processes: each stage's input split in as many bundles, finished in any order.
        "two workers": (dump, "--direct_num_workers=2"),
        "three workers": (dump, "--direct_num_workers=3"),
    }
    contents = {}
    for name, args in runs.items():
        out = tmp_path / name.replace(" ", "-")
        run_cli(*args, "--output", out)
        contents[name] = dataset_content(out, (ARTICLES, DUPLICATES, REJECTS))
    first = contents["one worker"]
    assert len(first[DUPLICATES]) >= 3, "the dump holds copies: the comparison must cover clusters"
    for name, content in contents.items():
        for table in (ARTICLES, DUPLICATES, REJECTS):
            assert content[table] == first[table], f"{table} differ between one worker and {name}"


def test_every_copy_of_one_page_gets_the_verdict_of_its_twin(tmp_path):
    out = tmp_path / "out"
    run_cli(harbour_post_dump(tmp_path / "dump"), "--output", out)
    articles, duplicates = rows_by_name(out, ARTICLES), rows_by_name(out, DUPLICATES)

    def article_of(name: str) -> str:
        return articles[name]["doc_id"] if name in articles else duplicates[name]["duplicate_of"]

    # The copy of story 3 in another folder keeps the Harbour Post's feed (its folder's template does not
    # know it): the page's copy whose chrome was removed is kept, the other is its exact copy.
    assert "More from the Harbour Post" not in articles["story-3.txt"]["text"]
    assert duplicates["same-bytes-as-story-3.txt"]["kind"] == "exact"
    assert duplicates["same-bytes-as-story-3.txt"]["duplicate_of"] == articles["story-3.txt"]["doc_id"]
    for copy in ("crlf-story-4.txt", "tabs-story-4.txt"):
        assert duplicates[copy]["kind"] == "exact"
        assert article_of(copy) == article_of("story-4.txt")
    # Near copies by other outlets join their story's cluster; the five stories stay five articles.
    assert article_of("copy-of-story-1.txt") == article_of("story-1.txt")
    assert article_of("wire-story-2.txt") == article_of("story-2.txt")
    assert len({article_of(f"story-{i}.txt") for i in range(5)}) == 5


def test_stories_under_a_sites_leftover_chrome_stay_apart_and_its_copies_still_meet(tmp_path):
    """Two pages of a site are too few to learn its template: its feed stays in both texts and makes
    them mostly the same words. Their openings differ: two stories. A copy of one of them in the same
    folder opens like it: a copy."""
    first, second = prose("council vote", 3), prose("ferry timetable", 3)
    dump = write(tmp_path / "dump", {
        "harbour-post/council.txt": page("Council votes on the quay", first, HEADER, FEED),
        "harbour-post/ferry.txt": page("Ferry timetable changes", second, HEADER, FEED),
        "harbour-post/council-updated.txt": page("Council votes on the quay (updated)",
                                                 first + ["The vote was postponed by a week."], HEADER, FEED),
    })
    out = tmp_path / "out"
    run_cli(dump, "--output", out)
    articles, duplicates = rows_by_name(out, ARTICLES), rows_by_name(out, DUPLICATES)
    assert FEED.split("\n\n")[1][:80] in articles["ferry.txt"]["text"], "the feed is meant to stay in the text"
    assert {"council.txt", "ferry.txt"} <= set(articles) or {"council-updated.txt", "ferry.txt"} <= set(articles)
    kept = "council.txt" if "council.txt" in articles else "council-updated.txt"
    copy = ({"council.txt", "council-updated.txt"} - {kept}).pop()
    assert duplicates[copy]["duplicate_of"] == articles[kept]["doc_id"]
    assert "ferry.txt" not in duplicates


CAFE = [
    "The café on the Quai Saint-Hélène reopened on Monday after a winter of repairs, its owner José Núñez said, "
    + "and the crème brûlée is back on the menu at £4.",
    "Núñez, who bought the café from the Müller family in 2019, said the façade was rebuilt with stone from the "
    + "old harbour wall, and that the terrace will seat forty.",
    "Neighbours in the rue Bérénice welcomed the reopening, though some asked whether the café would keep its "
    + "late hours in summer, when the quay is crowded until midnight.",
]


def test_a_garbled_copy_never_represents_its_clean_copies(tmp_path):
    """The same article as UTF-8, Latin-1, cp1252 and UTF-16, and twice garbled: UTF-8 bytes read as
    Latin-1 and written again ("cafÃ©", the longest text of all), and with replacement characters."""
    text = page("Harbour café reopens", CAFE + prose("cafe", 4))
    mojibake = text.encode("utf-8").decode("latin-1")
    assert garbled_marks(mojibake) > 10 and garbled_marks(text) == 0
    dump = write(tmp_path / "dump", {
        "a/mojibake.txt": mojibake.encode("utf-8"),
        "b/replaced.txt": text.replace("é", "\ufffd").encode("utf-8"),
        "c/utf8.txt": text.encode("utf-8"),
        "d/latin1.txt": text.encode("latin-1"),
        "e/cp1252.txt": text.encode("cp1252"),
        "f/utf16.txt": text.encode("utf-16"),
    })
    out = tmp_path / "out"
    run_cli(dump, "--output", out)
    articles, duplicates = rows_by_name(out, ARTICLES), rows_by_name(out, DUPLICATES)
    assert len(articles) == 1 and len(duplicates) == 5, (sorted(articles), sorted(duplicates))
    (kept,) = articles.values()
    assert garbled_marks(kept["text"]) == 0 and "José Núñez" in kept["text"]
    assert {row["duplicate_of"] for row in duplicates.values()} == {kept["doc_id"]}


def test_a_later_file_with_the_bytes_of_an_earlier_one_is_its_exact_copy(tmp_path):
    """Next week's delivery holds story 3's page again, in a folder whose template knows nothing of the
    Harbour Post's feed: its text keeps the feed, and is no near copy of last week's article. Its bytes
    are: it points at that article, as an exact copy."""
    out = tmp_path / "out"
    week1 = harbour_post_dump(tmp_path / "week1")
    run_cli(week1, "--output", out)
    article = rows_by_name(out, ARTICLES)["story-3.txt"]
    week2 = write(tmp_path / "week2", {
        "quay-times/story-3-again.txt": (week1 / "harbour-post" / "story-3.txt").read_bytes(),
        "quay-times/other.txt": page("Quay Times: lighthouse", prose("lighthouse", 3)),
    })
    run_cli(week2, "--output", out)
    copy = rows_by_name(out, DUPLICATES)["story-3-again.txt"]
    assert (copy["duplicate_of"], copy["kind"]) == (article["doc_id"], "exact")
    assert "other.txt" in rows_by_name(out, ARTICLES)


def stage_documents() -> list[Document]:
    """Clean documents with their raw pages, as they reach dedupe: stories under one site's chrome,
    their near copies elsewhere, byte-identical and whitespace-only copies, two pages with equal texts."""
    stories = {f"story-{i}": prose(f"order story {i}", 3) for i in range(6)}
    docs = []

    def add(uri: str, raw: str, paragraphs: list[str], date: dt.date | None = None) -> None:
        doc_id = hashlib.blake2b(raw.encode(), digest_size=16).hexdigest()
        docs.append(Document(doc_id=doc_id, source_uri=f"/dump/{uri}", content_type="text", encoding="utf-8",
                             raw=raw, text="\n\n".join(paragraphs), published_date=date))

    for name, body in stories.items():
        raw = page(f"Harbour story {name}", body, HEADER, FEED)
        add(f"harbour-post/{name}.txt", raw, body, dt.date(2024, 3, 1 + len(docs) % 5))
        add(f"mirror/{name}.txt", raw, body + FEED.split("\n\n")[1:3])  # same bytes, chrome left in
        add(f"wire/{name}-crlf.txt", raw.replace("\n", "\r\n"), body)  # whitespace only
        add(f"quay-times/{name}.txt", page(f"Quay: {name}", body[:2]), body[:2] + prose(f"note {name}", 1))
    # Equal texts of other pages: in two sites, copies; in one site, its chrome.
    add("ledger/a.txt", page("Ledger A", stories["story-0"]), stories["story-0"])
    add("gazette/a.txt", page("Gazette A", stories["story-0"]), stories["story-0"])
    add("gazette/b.txt", page("Gazette B", stories["story-0"]), stories["story-0"])
    return docs


_COLLECTED: dict[str, list] = {}  # what dedupe_verdicts' pipelines found (in this process: in memory)


def _collect(rows: list, name: str) -> None:
    _COLLECTED[name] = sorted(rows)


def dedupe_verdicts(docs: list[Document], *options: str, rejected: list[RejectRow] = ()) -> tuple[list, list]:
    """(articles as (uri, duplicate_count), duplicates as (uri, duplicate_of, kind, similarity)), sorted;
    the rejects the stage made, as (uri, stage, reason), in _COLLECTED["rejects"]."""
    _COLLECTED.clear()
    with BeamTestPipeline(options=PipelineOptions(list(options))) as pipeline:
        rejects = pipeline | "Rejected" >> beam.Create(list(rejected), reshuffle=False)
        result = pipeline | beam.Create(docs, reshuffle=False) | Deduplicate(rejected=rejects)
        (result.rejects | "RejectRows" >> beam.Map(lambda r: (r.source_uri, r.stage, r.reason))
         | "AllRejects" >> beam.combiners.ToList() | "CollectRejects" >> beam.Map(_collect, "rejects"))
        articles = result.articles | "Articles" >> beam.Map(lambda d: (d.source_uri, d.duplicate_count))
        duplicates = result.duplicates | "Duplicates" >> beam.MapTuple(
            lambda d, v: (d.source_uri, v.duplicate_of, v.kind, round(v.similarity, 6)))
        for name, collection in (("articles", articles), ("duplicates", duplicates)):
            collection | f"All{name}" >> beam.combiners.ToList() | f"Collect{name}" >> beam.Map(_collect, name)
    return _COLLECTED["articles"], _COLLECTED["duplicates"]


def test_the_dedupe_stage_gives_the_same_verdicts_in_any_order_and_bundling():
    """The stage on its own, fed the same documents in four orders, in one bundle or spread over two
    workers: the same articles and the same verdicts every time."""
    docs = stage_documents()
    expected = dedupe_verdicts(docs, "--direct_running_mode=in_memory", "--direct_num_workers=1")
    articles, duplicates = expected
    assert len(duplicates) >= 15, duplicates  # exact and near copies, equal texts: every kind of evidence
    assert {kind for *_, kind, _ in duplicates} == {"exact", "near"}
    assert sum(count for _, count in articles) == len(duplicates)
    orders = [docs[::-1], *(random.Random(seed).sample(docs, len(docs)) for seed in range(2))]
    for order in orders:
        assert dedupe_verdicts(order, "--direct_running_mode=in_memory", "--direct_num_workers=1") == expected
    assert dedupe_verdicts(orders[0], "--direct_running_mode=multi_threading", "--direct_num_workers=2") == expected


def test_the_copies_of_a_page_rejected_before_dedupe_are_rejected_too():
    """Story 2's page was rejected in its own site's folder (its template left no article): its
    byte-identical copy elsewhere and its CRLF copy are rejected with it, for the same reason. Its near
    copy by another outlet, another page, stays."""
    docs = stage_documents()
    page_of_story_2 = next(d for d in docs if d.source_uri == "/dump/harbour-post/story-2.txt")
    reject = RejectRow(page_of_story_2.source_uri, "templates", "no article body found", "its template",
                       page_of_story_2.doc_id, page_key(page_of_story_2))
    others = [d for d in docs if d is not page_of_story_2]
    articles, duplicates = dedupe_verdicts(others, "--direct_running_mode=in_memory", rejected=[reject])
    assert sorted(_COLLECTED["rejects"]) == [
        ("/dump/mirror/story-2.txt", "dedupe", "no article body found"),
        ("/dump/wire/story-2-crlf.txt", "dedupe", "no article body found"),
    ]
    assert "/dump/quay-times/story-2.txt" in {uri for uri, _ in articles}
    assert len(articles) + len(duplicates) + 2 == len(others)
