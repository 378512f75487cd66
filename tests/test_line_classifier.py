"""The learned line classifier: its tree evaluation, its weights file, and what it keeps of pages."""
import json

import numpy as np
import pytest

from transforms.clean import clean_text_page, text_page_features
from transforms.line_classifier import (
    MODEL_PATH,
    LineClassifier,
    ObliviousTrees,
    densest_run,
    line_classifier,
)
from transforms.line_features import FEATURES


def test_an_oblivious_tree_sums_the_leaves_its_levels_point_at():
    # Two trees of depth 2. Tree 0 asks x0 > 1 (bit 0), then x1 > 5 (bit 1); tree 1 asks x2 > 0 twice.
    trees = ObliviousTrees(
        features=np.array([[0, 1], [2, 2]]),
        borders=np.array([[1.0, 5.0], [0.0, 10.0]]),
        leaf_values=np.array([[0.0, 1.0, 2.0, 3.0], [-1.0, 0.5, 0.0, 0.0]]),
        bias=0.25,
    )
    rows = np.array([
        [0.0, 0.0, -1.0],  # tree 0: leaf 0 (0.0); tree 1: leaf 0 (-1.0)
        [2.0, 9.0, 3.0],  # tree 0: leaf 3 (3.0); tree 1: leaf 1 (0.5)
        [2.0, 0.0, 11.0],  # tree 0: leaf 1 (1.0); tree 1: leaf 3 (0.0)
    ])
    raw = np.array([0.0 - 1.0, 3.0 + 0.5, 1.0 + 0.0]) + 0.25
    assert trees.probabilities(rows) == pytest.approx(1 / (1 + np.exp(-raw)))


def test_densest_run_is_the_stretch_with_the_largest_sum():
    assert densest_run(np.array([-1.0, 2.0, -0.5, 3.0, -10.0, 4.0])) == (1, 4)
    assert densest_run(np.array([-2.0, -1.0, -3.0])) == (1, 2)  # all negative: the least bad line


def test_weights_trained_on_other_features_are_refused():
    model = json.loads(MODEL_PATH.read_text())
    model["features"] = model["features"][:-1]
    with pytest.raises(ValueError, match="retrain"):
        LineClassifier.from_json(model)


def test_the_shipped_weights_say_what_they_were_trained_on():
    provenance = json.loads(MODEL_PATH.read_text())["provenance"]
    assert "tune halves" in provenance["data"]
    assert set(provenance["pages"]) == {"aeb-text", "dragnet", "l3s-gn1", "cleanportaleval", "readability", "newspaper"}
    assert 0 < line_classifier().threshold < 1


def test_every_line_gets_one_row_of_every_feature():
    lines, rows, title = text_page_features(PAGE_WITH_COMMENTS)
    assert rows.shape == (len(lines), len(FEATURES))
    assert np.isfinite(rows).all()
    assert lines[title] == "Harbour ferry returns after a winter in dry dock"


# --- what the cleaner keeps (invented pages) ---------------------------------------------------------

ARTICLE = [
    ("The Port Alder ferry returned to service on Monday after four months in dry dock, the harbour "
    "authority said, ending a winter in which island residents relied on a single water taxi."),
    ("Engineers replaced both propeller shafts and rebuilt the passenger deck, which had been closed "
    "since a storm in October damaged its railings and two of its lifeboat davits."),
    ("“We are relieved to have it back,” said Hattie Lindqvist, who runs the bakery on Gull Island and "
    "had been ordering flour by the pallet to avoid the crossing."),
    ("The authority said timetables would return to the summer schedule from the first of May, with an "
    "extra evening sailing on Fridays for the duration of the festival season."),
]
COMMENTS = [
    "by Gulls4Ever on March 3, 2024 at 6:10 am. Reply #",
    ("About time. My kids have been late for school every week since November and nobody at the council "
    "seemed to care until the newspaper wrote about it."),
    "by harbourwatcher on March 3, 2024 at 8:41 am. Reply #",
    ("The water taxi was fine if you did not mind getting wet. I will miss the captain's stories about the "
    "old lighthouse keepers, though, and the dog that rode along."),
    "by Pete M. on March 3, 2024 at 9:02 am. Reply #",
    ("Does anyone know whether the bicycle racks on the lower deck were replaced as well? They were rusted "
    "through when I last took my bike across to the island in the autumn."),
]
PAGE_WITH_COMMENTS = "\n".join([
    "Harbour ferry returns after a winter in dry dock | Northshore Daily",
    "Home", "News", "Sport", "Business", "Weather", "Subscribe",
    "Harbour ferry returns after a winter in dry dock",
    "By Ilse Marsh", "March 2, 2024",
    *ARTICLE,
    "Share this:", "Facebook", "Twitter", "Email",
    "3 comments",
    *COMMENTS,
    "Leave a reply",
    "© 2024 Northshore Daily. All rights reserved.",
])


def test_a_comment_thread_under_the_article_is_not_the_article():
    page = clean_text_page(PAGE_WITH_COMMENTS)
    assert page.title == "Harbour ferry returns after a winter in dry dock"
    assert page.text.split("\n\n") == ARTICLE


def test_a_page_without_chrome_keeps_every_line_of_its_story():
    # A plain export: one-sentence paragraphs, a short table of results and a list: all of it is the story.
    story = [
        "Island regatta ends in a dead heat",
        "PORT ALDER, March 4 - The Gull Island regatta ended in a dead heat for the first time in its history.",
        "Two crews crossed the line together after eleven miles.",
        "Results:",
        "1. Northshore Rowing Club 1:02:14",
        "1. Talbote Boat Club 1:02:14",
        "3. Harborline Scullers 1:04:51",
        "The organisers said both crews would share the trophy.",
    ]
    page = clean_text_page("\n".join(story))
    assert page.title == story[0]
    assert page.text.split("\n\n") == story[1:]


def test_a_dateline_on_a_line_of_its_own_stays_with_its_story():
    story = [
        "FERRY SERVICE RESUMES AFTER REPAIRS .",
        "PORT ALDER 1996-08-30",
        "The harbour authority said on Friday the island ferry would resume service next week .",
        "Repairs to the ferry 's propeller shafts took four months , the authority said .",
    ]
    page = clean_text_page("\n".join(story))
    assert page.text.split("\n\n") == story[1:]


def test_a_results_table_with_division_headings_is_a_plain_story_not_a_menu():
    # Runs of short lines and short lines printed twice look like a site's menus; without a section
    # name, a share button or a copyright they are the story's own headings.
    story = [
        "BASEBALL - MAJOR LEAGUE STANDINGS",
        "NEW YORK 1996-08-30",
        "Major League Baseball standings after Thursday 's games :",
        "EASTERN DIVISION",
        "NEW YORK 74 57",
        "BALTIMORE 70 61",
        "CENTRAL DIVISION",
        "CLEVELAND 78 53",
        "CHICAGO 70 64",
        "WESTERN DIVISION",
        "TEXAS 75 57",
        "SEATTLE 68 63",
    ]
    page = clean_text_page("\n".join(story))
    title = [page.title] if page.title else []
    assert sorted([*title, *page.text.split("\n\n")]) == sorted(story)  # every line is the title or the text


def test_an_agency_sign_off_credited_in_the_dateline_is_not_the_story():
    story = [
        "GRAIN TERMINAL REOPENS",
        "PORT ALDER, Mar 12 (Wirepress) - The Halvorsen grain terminal reopened on Tuesday, a day after a fire.",
        "Four bulk carriers waiting at anchor were expected to berth by the weekend, the operator said.",
    ]
    page = clean_text_page("\n".join([*story, " Wirepress"]))
    assert page.text.split("\n\n") == story[1:]


def test_a_menu_naming_the_sites_sections_makes_a_page_a_sites_page():
    lines = ["Home", "News", "Sport", "Weather", *ARTICLE]
    assert "Sport" not in clean_text_page("\n".join(lines)).text


def test_one_line_printed_over_and_over_is_no_story():
    assert clean_text_page("a\n" * 20_000).text == ""  # not a plain story, and no article by the rules


def test_many_rows_are_scored_a_few_at_a_time_alike():
    trees = line_classifier().first
    rows = np.random.default_rng(7).normal(size=(3000, trees.features.max() + 1))
    whole = 1.0 / (1.0 + np.exp(-trees._raw(rows)))
    assert np.allclose(trees.probabilities(rows), whole)
