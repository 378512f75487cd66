"""Cross-document template learning: plain functions, then real pipeline runs read back with pyarrow.

Every page here is fictional, written for these tests: "The Harbour Courier", a site whose pages all carry
the same menus and the same long "about us" paragraph right under the article, where a page cleaner
alone takes it for the article's last paragraph.
"""
import pathlib

import pytest
from cli_runs import rows_by_name, run_cli

from schemas.records import Document
from schemas.tables import ARTICLES, REJECTS
from storage.state import TemplateStatistics
from storage.visible import open_table
from transforms.clean import clean_text_page
from transforms.clean_html import clean_html_page
from transforms.identity import content_id, line_key, source_of
from transforms.routing import Rejected
from transforms.templates import (
    ALL_STORIES,
    MIN_STORIES,
    SKETCH_SIZE,
    apply_template,
    learn_templates,
    merge_sketches,
    page_lines,
    sketch_count,
    stories_of,
)

ABOUT = (
    "The Harbour Courier is an independent newsroom that has covered the towns of the northern coast "
    "since 1921, and it is owned by the people who read it, with a board elected every year by its members."
)
MENU = ["Home", "Harbour", "Council", "Sport", "Weather", "Letters"]
FOOTER = ["Contact us", "Privacy", "Terms of use", "© 2024 The Harbour Courier"]
STORIES = {
    "ferry": (
        "New ferry timetable adds a night crossing to Kelby Island",
        [
            ("The harbour board said on Monday that a new night crossing to Kelby Island would start in May, "
             "after two years of requests from island workers who miss the last boat home."),
            ("The crossing will leave the mainland pier at eleven in the evening and return at midnight, "
            "with room for forty passengers and a dozen cars on each trip."),
        ],
    ),
    "library": (
        "Old customs house reopens as the town library",
        [
            ("The customs house on Quay Street, empty for a decade, opened its doors on Saturday as the new "
             "town library, with four thousand books moved in by volunteers over the winter."),
            ("The reading room keeps the building's iron stove and its tall windows over the water, and the "
            "library will stay open until nine on weekday evenings."),
        ],
    ),
    "market": (
        "Fish market moves to the north quay for the summer",
        [
            ("Traders at the fish market will set up on the north quay from June, while the roof of the old "
             "market hall is repaired, the council said in a letter to stallholders."),
            ("The move adds a few minutes' walk for shoppers from the bus station, but the north quay has "
            "more room for the stalls and for the boats that unload there in the morning."),
        ],
    ),
    "choir": (
        "Harbour choir wins the regional competition for the first time",
        [
            ("The Harbour Voices choir won the regional choir competition in Dunmere on Sunday, the first "
             "win for the town in the forty years the competition has been held."),
            ("The thirty singers, the youngest of whom is fifteen, sang two sea shanties and a hymn, and the "
            "judges praised the way the choir held the long notes of the final piece."),
        ],
    ),
}


# A "readers' picks" feed the site prints under every story: teasers longer, together, than any story.
FEED = [
    ("Why the lighthouse keeper's cottage on Gull Point has stood empty for thirty years, and who "
     "wants to buy it now that the council has put it up for sale."),
    ("Ten walks along the northern coast that you can finish before lunch, with a cafe and a bus stop "
     "at the end of each one of them."),
    ("The baker on Mill Lane has made the same seed loaf every morning since 1987, and she is not "
     "planning to change the recipe any time soon."),
    ("How a group of pupils from the harbour school built a weather station on the roof and started "
     "sending their readings to the national forecast."),
    ("What the tide tables will look like this summer, and why the spring tides in August could reach "
     "the car park on the sea front again."),
    ("A retired skipper has written down the names of every boat that has sailed from the old quay, "
     "and the list now fills four notebooks."),
]


def feed_page(story: str) -> str:
    """A page of a site that prints its feed of teasers under every story."""
    title, paragraphs = STORIES[story]
    feed = [line for teaser in FEED for line in (teaser, "")]
    return "\n".join(["The Harbour Courier", "", *MENU, "", title, "", *paragraphs, "", *feed, *FOOTER]) + "\n"


def site_page(story: str) -> str:
    """A whole-page text dump of the site: menus, headline, body, then the site's "about" paragraph."""
    title, paragraphs = STORIES[story]
    return "\n".join(["The Harbour Courier", "", *MENU, "", title, "", *paragraphs, ABOUT, "", *FOOTER]) + "\n"


def document(raw: str, uri: str, content_type: str = "text") -> Document:
    return Document(content_id(raw.encode()), uri, content_type, "utf-8", raw)


def cleaned(raw: str, uri: str) -> Document:
    page = clean_text_page(raw)
    doc = document(raw, uri)
    doc.title, doc.text, doc.language, doc.line_keys = page.title, page.text, page.language, page.line_keys
    return doc


# ---------------------------------------------------------------------------------------------
# Plain functions
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("uri", "source"),
    [
        ("file:///dumps/2024-03-02/courier.example/a.txt", "courier.example"),
        ("file:///dumps/2024-03-02/a.txt", "dumps"),
        ("s3://bucket/feeds/20240302/x.html", "feeds"),
        ("https://www.Courier.example/news/a.html", "www.courier.example"),
        ("file:///d/pages.zip#courier.example/a.txt", "courier.example"),
        ("file:///a.txt", ""),
    ],
)
def test_source_is_the_host_or_the_folder_without_delivery_dates(uri, source):
    assert source_of(uri) == source


def test_the_page_cleaner_alone_keeps_the_about_paragraph():
    # The premise of this module: one page cannot tell the site's paragraph from the article's.
    assert ABOUT in clean_text_page(site_page("ferry")).text


def test_lines_every_story_of_a_site_prints_are_learned_and_bodies_are_not():
    docs = [cleaned(site_page(story), f"file:///d/courier/{story}.txt") for story in STORIES]
    template, _ = learn_templates([page_lines(doc) for doc in docs])
    assert line_key(ABOUT) in template
    assert {line_key(item) for item in MENU + FOOTER} <= template
    for title, paragraphs in STORIES.values():
        assert line_key(title) not in template
        assert not {line_key(p) for p in paragraphs} & template


def test_copies_of_one_story_are_one_story_not_a_template():
    # Five outlets in one flat folder republish the ferry story, each in its own page chrome.
    title, paragraphs = STORIES["ferry"]
    docs = []
    for outlet in range(5):
        raw = "\n".join([f"Outlet {outlet} News", "", f"Section {outlet}", "", title, "", *paragraphs]) + "\n"
        docs.append(cleaned(raw, f"file:///d/flat/copy-{outlet}.txt"))
    template, _ = learn_templates([page_lines(doc) for doc in docs])
    assert not {line_key(p) for p in paragraphs} & template
    assert line_key(title) not in template


def test_a_feed_longer_than_the_stories_is_learned_and_does_not_make_the_pages_one_story():
    docs = [cleaned(feed_page(story), f"file:///d/courier/{story}.txt") for story in STORIES]
    assert all(FEED[0] in doc.text for doc in docs)  # the page cleaner alone keeps the feed
    pages = [page_lines(doc) for doc in docs]
    assert len(set(stories_of(pages).values())) == len(STORIES)
    template, _ = learn_templates(pages)
    assert {line_key(teaser) for teaser in FEED} <= template
    for title, paragraphs in STORIES.values():
        assert line_key(title) not in template
        assert not {line_key(p) for p in paragraphs} & template
    assert apply_template(docs[0], template).text.split("\n\n") == STORIES["ferry"][1]


def test_edited_copies_making_up_a_whole_folder_stay_one_story():
    # Every page of the folder is the ferry story; two copies reworded one paragraph each.
    title, (first, second) = STORIES["ferry"]
    bodies = [
        [first, second],
        [first.replace("on Monday", "on Monday morning"), second],
        [first, second.replace("forty passengers", "40 passengers")],
        [first, second],
    ]
    docs = []
    for outlet, paragraphs in enumerate(bodies):
        raw = "\n".join([f"Outlet {outlet} News", "", title, "", *paragraphs]) + "\n"
        docs.append(cleaned(raw, f"file:///d/flat/copy-{outlet}.txt"))
    pages = [page_lines(doc) for doc in docs]
    assert len(set(stories_of(pages).values())) == 1
    template, _ = learn_templates(pages)
    assert not {line_key(p) for paragraphs in bodies for p in paragraphs} & template


def test_fewer_stories_than_the_minimum_teach_nothing():
    docs = [cleaned(site_page(story), f"file:///d/courier/{story}.txt") for story in list(STORIES)[: MIN_STORIES - 1]]
    template, statistics = learn_templates([page_lines(doc) for doc in docs])
    assert template == frozenset()
    assert sketch_count(statistics[line_key(ABOUT)]) == MIN_STORIES - 1


def test_statistics_of_earlier_runs_teach_a_single_new_page():
    docs = [cleaned(site_page(story), f"file:///d/courier/{story}.txt") for story in list(STORIES)[:3]]
    _, statistics = learn_templates([page_lines(doc) for doc in docs])
    newcomer = cleaned(site_page("choir"), "file:///d2/courier/choir.txt")
    alone, _ = learn_templates([page_lines(newcomer)])
    assert alone == frozenset()
    template, merged = learn_templates([page_lines(newcomer)], prior=statistics)
    assert line_key(ABOUT) in template
    assert sketch_count(merged[ALL_STORIES]) == 4


def test_relearning_the_same_pages_does_not_inflate_the_counts():
    docs = [cleaned(site_page(story), f"file:///d/courier/{story}.txt") for story in list(STORIES)[:2]]
    pages = [page_lines(doc) for doc in docs]
    _, statistics = learn_templates(pages)
    for _ in range(3):  # the same dump ingested again and again
        template, statistics = learn_templates(pages, prior=statistics)
    assert template == frozenset()
    assert sketch_count(statistics[ALL_STORIES]) == 2


def test_sketches_merge_idempotently_and_estimate_large_counts():
    a = merge_sketches(range(0, 2**64, 2**64 // 1000))  # 1000 evenly spread hashes
    assert len(a) == SKETCH_SIZE
    assert merge_sketches(a, a) == a
    assert 800 < sketch_count(a) < 1250
    assert sketch_count(merge_sketches([5, 9, 9, 1])) == 3


def test_apply_template_recleans_a_text_page():
    docs = [cleaned(site_page(story), f"file:///d/courier/{story}.txt") for story in STORIES]
    template, _ = learn_templates([page_lines(doc) for doc in docs])
    doc = apply_template(docs[0], template)
    assert ABOUT not in doc.text
    assert doc.text.split("\n\n") == STORIES["ferry"][1]
    assert doc.title == STORIES["ferry"][0]
    assert doc.raw == docs[0].raw  # the dates stage still reads the whole page


def test_apply_template_drops_template_paragraphs_of_html():
    html = "<html><body><article><h1>{}</h1>{}<p>{}</p></article></body></html>".format(
        STORIES["library"][0], "".join(f"<p>{p}</p>" for p in STORIES["library"][1]), ABOUT
    )
    page = clean_html_page(html)
    doc = document(html, "file:///d/courier/library.html", "html")
    doc.title, doc.text = page.title, page.text
    assert ABOUT in doc.text
    assert apply_template(doc, frozenset({line_key(ABOUT)})).text.split("\n\n") == STORIES["library"][1]


def test_a_page_that_is_only_template_is_rejected():
    raw = site_page("ferry")
    doc = cleaned(raw, "file:///d/courier/ferry.txt")
    everything = frozenset(clean_text_page(raw).line_keys)
    with pytest.raises(Rejected) as error:
        apply_template(doc, everything)
    assert error.value.reason == "no article body found"
    assert "template" in error.value.detail


def test_a_page_without_template_lines_is_left_alone():
    doc = cleaned(site_page("ferry"), "file:///d/courier/ferry.txt")
    assert apply_template(doc, frozenset({line_key("a line this page does not have")})) is doc


# ---------------------------------------------------------------------------------------------
# Real pipeline runs
# ---------------------------------------------------------------------------------------------


def ingest(dump: pathlib.Path, out: pathlib.Path) -> None:
    run_cli(dump, "--output", out)


def articles_by_name(out: pathlib.Path) -> dict[str, dict]:
    return rows_by_name(out, ARTICLES)


@pytest.mark.slow
def test_pipeline_learns_a_site_template_and_the_next_run_reuses_it(tmp_path):
    first = tmp_path / "2024-05-01" / "courier"
    first.mkdir(parents=True)
    for story in ("ferry", "library", "market"):
        (first / f"{story}.txt").write_text(site_page(story))
    out = tmp_path / "out"
    ingest(tmp_path / "2024-05-01", out)
    articles = articles_by_name(out)
    assert sorted(articles) == ["ferry.txt", "library.txt", "market.txt"]
    for story, row in articles.items():
        assert ABOUT not in row["text"]
        assert row["text"].split("\n\n") == STORIES[story.removesuffix(".txt")][1]
    statistics = dict(TemplateStatistics(str(out)).read())
    assert "courier" in statistics

    # The next night, one new page of the same site: alone it could not show its template.
    second = tmp_path / "2024-05-02" / "courier"
    second.mkdir(parents=True)
    (second / "choir.txt").write_text(site_page("choir"))
    ingest(tmp_path / "2024-05-02", out)
    choir = articles_by_name(out)["choir.txt"]
    assert ABOUT not in choir["text"]
    assert choir["text"].split("\n\n") == STORIES["choir"][1]
    second_run = max((out / "_runs").glob("*.json")).stem
    state_files = list((out / "_state" / "templates").glob("*.parquet"))
    assert state_files and all(second_run in path.name for path in state_files)  # replaced, not piled up
    assert open_table(str(out), REJECTS).count_rows() == 0


@pytest.mark.slow
def test_a_date_every_page_of_a_site_prints_is_a_crawl_date_not_a_publication_date(tmp_path):
    crawl_day = "Thursday, March 28, 2024"
    dump = tmp_path / "delivery" / "courier"
    dump.mkdir(parents=True)
    for story in ("ferry", "library", "market"):
        (dump / f"{story}.txt").write_text(f"{crawl_day}\n" + site_page(story))
    out = tmp_path / "out"
    ingest(tmp_path / "delivery", out)
    assert {row["published_date"] for row in articles_by_name(out).values()} == {None}
    # The same page alone: the header date is all there is, and it is taken.
    alone = tmp_path / "alone" / "courier"
    alone.mkdir(parents=True)
    (alone / "ferry.txt").write_text(f"{crawl_day}\n" + site_page("ferry"))
    ingest(tmp_path / "alone", tmp_path / "out-alone")
    assert articles_by_name(tmp_path / "out-alone")["ferry.txt"]["published_date"].isoformat() == "2024-03-28"
