"""The clean stage: boilerplate removal on whole-page text dumps and on HTML.

Every fixture is fictional news written for these tests.
"""
import textwrap

import apache_beam as beam
import pytest
from apache_beam.testing import test_pipeline as beam_testing
from apache_beam.testing.util import assert_that, equal_to

from schemas.records import Document
from transforms.clean import (
    CleanDocuments,
    clean_document,
    clean_text_page,
    has_article,
)
from transforms.clean_html import clean_html_page
from transforms.clean_paragraphs import normalise, reflow
from transforms.identity import line_key
from transforms.routing import Rejected

TITLE = "River dam upgrade finished ahead of schedule in Valdoria"
FIRST = (
    "VALDORIA: Engineers in the northern province of Valdoria said on Tuesday that the upgrade of the old "
    "river dam had been finished three months ahead of schedule, and that the new floodgates would be "
    "tested before the spring rains arrive."
)
SECOND = (
    "The project, which cost the provincial government about 40 million crowns, was started after the "
    "floods of two winters ago, when the water rose over the banks and damaged hundreds of homes in the "
    "lower town."
)
QUOTE = (
    "“We were lucky with the weather this year, and the crews worked in two shifts,” said Mara Lindqvist, "
    "the chief engineer of the project, who has worked on the dam for more than a decade."
)
CAPTION = (
    "The new floodgates of the Valdoria dam seen from the east bank on Monday morning, before the first "
    "test of the season."
)
SUBHEADING = "A safer valley"
AFTER_SUBHEADING = (
    "Residents of the lower town said they were relieved that the work was over, but several of them "
    "asked the council to keep the footpath along the river open while the floodgates are being tested."
)
LAST = (
    "The council said it would publish a timetable for the tests next week, and that the footpath would "
    "stay open on weekends while the engineers were not working on the site."
)
TICKER = (
    "Just in: // Harbour city opens new ferry terminal // Local bakery wins national award // "
    "Council delays vote on parking fees // Storm warning lifted for the coast //"
)
TIMESTAMP = "1700000000123456789"


def page_of(*lines):
    return "\n".join(lines)


PAGE = page_of(
    TICKER,
    "HomeRegional" + TITLE,
    "",
    TITLE,
    "",
    TIMESTAMP,
    "ADVERTISEMENT",
    FIRST,
    SECOND,
    CAPTION,
    "",
    CAPTION,
    QUOTE,
    "",
    SUBHEADING,
    AFTER_SUBHEADING,
    LAST,
    "",
    "ADVERTISEMENT",
    "Share this:",
    "Facebook",
    "Twitter",
    "Back To Top",
    "RELATED ARTICLES",
    "Most Viewed",
    "[custom-twitter-feeds]",
    "Copyright © 2024 Valdoria Daily News. All rights reserved.",
)

CHROME = [
    "Just in", " // ", "HomeRegional", TIMESTAMP, "ADVERTISEMENT", "Share this", "Facebook", "Back To Top",
    "RELATED ARTICLES", "Most Viewed", "custom-twitter-feeds", "Copyright", CAPTION,
]


def paragraphs(text):
    return text.split("\n\n")


# --- whole-page text ---------------------------------------------------------------------------------


def test_page_title_is_the_headline_alone():
    page = clean_text_page(PAGE)
    assert page.title == TITLE
    assert not page.text.startswith(TITLE)  # not repeated as the body's first line


def test_page_body_runs_from_first_to_last_paragraph_with_subheading():
    page = clean_text_page(PAGE)
    assert paragraphs(page.text) == [FIRST, SECOND, QUOTE, SUBHEADING, AFTER_SUBHEADING, LAST]
    assert page.language == "en"


@pytest.mark.parametrize("chrome", CHROME)
def test_page_chrome_is_gone(chrome):
    assert chrome not in clean_text_page(PAGE).text


def test_removed_lines_are_reported():
    removed = clean_text_page(PAGE).removed_lines
    assert "ADVERTISEMENT" in removed and TIMESTAMP in removed and CAPTION in removed


def test_paragraphs_are_separated_by_exactly_one_blank_line():
    text = clean_text_page(PAGE).text
    assert "\n\n\n" not in text
    assert all(p.strip() == p and p for p in paragraphs(text))


def test_cleaning_is_idempotent():
    first = clean_text_page(PAGE)
    again = clean_text_page(first.title + "\n\n" + first.text)
    assert again.title == first.title
    assert again.text == first.text


def test_page_title_from_the_dump_first_line_and_comments_are_not_the_article():
    comments = [
        f"Reader{n} on March {n}, 2024 at 10:{n:02d} am said:\n"
        "I have lived near this river all my life and I do not believe a word of what the council says "
        "about the dam, because they said the same thing the last time and then the water came anyway."
        for n in range(1, 8)
    ]
    page = page_of(
        f"{TITLE} | Valdoria Daily News", "Home", "Regional", "Sport", "Weather", TITLE, "By Ilse Marsh",
        FIRST, SECOND, LAST, "Comments", *comments,
    )
    cleaned = clean_text_page(page)
    assert cleaned.title == TITLE
    assert paragraphs(cleaned.text) == [FIRST, SECOND, LAST]


def test_menus_between_paragraphs_are_dropped_but_a_subheading_stays():
    page = page_of(TITLE, FIRST, "News", "Sport", "Weather", "Opinion", SECOND, SUBHEADING, LAST)
    assert paragraphs(clean_text_page(page).text) == [FIRST, SECOND, SUBHEADING, LAST]


def test_a_subheading_right_after_a_caption_printed_twice_stays():
    page = page_of(TITLE, "", FIRST, SECOND, "ADVERTISEMENT", "", CAPTION, " " + CAPTION, "", SUBHEADING,
                   AFTER_SUBHEADING, LAST)
    assert paragraphs(clean_text_page(page).text) == [FIRST, SECOND, SUBHEADING, AFTER_SUBHEADING, LAST]


def test_title_is_the_headline_not_a_media_notice_nor_a_byline():
    page = page_of(
        "Valdoria Daily News",
        "News    Regional    Sport    Weather    Letters",
        TITLE,
        "Published on 05 - 03 - 2024",
        "This image will be shown to subscribers only",
        "Ilse Marsh",
        FIRST,
        SECOND,
        LAST,
        "",
        "Read the original story at Harbour Weekly.",
        "Report an error    Republish    Comments (14)",
    )
    cleaned = clean_text_page(page)
    assert cleaned.title == TITLE
    assert paragraphs(cleaned.text) == [FIRST, SECOND, LAST]


@pytest.mark.parametrize("label", ["Anzeige", "PUBLICIDAD", "Publicité", "Werbung"])
def test_advertisement_labels_in_other_languages_are_chrome(label):
    page = page_of(TITLE, FIRST, label, SECOND, LAST)
    assert label not in clean_text_page(page).text


def test_control_characters_are_stripped():
    dirty = PAGE.replace("Tuesday", "Tues\x00day").replace("shifts", "shi\x1bfts\u200b") + "\x03"
    page = clean_text_page(dirty)
    assert "Tuesday" in page.text and "shifts" in page.text
    assert not any(ord(c) < 32 and c != "\n" for c in page.text)
    assert "\u200b" not in page.text


def test_windows_line_endings_and_non_breaking_spaces():
    page = clean_text_page(PAGE.replace("\n", "\r\n").replace("the old river", "the\u00a0old river"))
    assert page.title == TITLE
    assert "\r" not in page.text
    assert "the old river dam" in page.text


def test_a_very_long_line_does_not_break_or_slow_the_stage():
    long_paragraph = " ".join([SECOND] * 400)  # ~80,000 characters on one line
    page = clean_text_page(page_of(TITLE, FIRST, long_paragraph, LAST))
    assert long_paragraph in paragraphs(page.text)
    assert page.title == TITLE


def test_mixed_scripts_keep_the_article_and_its_language():
    russian = (
        "Инженеры северной провинции сообщили во вторник, что реконструкция старой плотины на реке была "
        "завершена на три месяца раньше срока, и что новые шлюзы будут испытаны до весенних дождей."
    )
    russian_2 = (
        "Проект, который обошёлся правительству провинции примерно в сорок миллионов крон, был начат после "
        "наводнения две зимы назад, когда вода поднялась выше берегов и повредила сотни домов."
    )
    page = page_of("Главная", "Новости", "Спорт", "Плотина на реке готова раньше срока", russian, russian_2,
                   "Share this:", "Facebook")
    cleaned = clean_text_page(page)
    assert cleaned.language == "ru"
    assert paragraphs(cleaned.text) == [russian, russian_2]
    assert cleaned.title == "Плотина на реке готова раньше срока"


def test_the_language_is_the_article_s_not_the_site_template_s():
    # An English site's long template (a feed of teasers) above a German article: once the template is
    # known, the article's language decides how its lines are read.
    german = (
        "Die Ingenieure der Provinz sagten am Dienstag, dass der Umbau des alten Staudamms drei Monate "
        "früher als geplant fertig geworden sei und die neuen Schleusen noch vor dem Frühjahr geprüft würden."
    )
    german_2 = (
        "Das Projekt hat die Regierung der Provinz rund vierzig Millionen Kronen gekostet und wurde nach "
        "dem Hochwasser vor zwei Wintern begonnen, als das Wasser über die Ufer stieg."
    )
    feed = [
        ("Why the lighthouse keeper's cottage on Gull Point has stood empty for thirty years, and who wants "
         "to buy it now that the council has put it up for sale."),
        ("Ten walks along the northern coast that you can finish before lunch, with a cafe and a bus stop at "
         "the end of each one of them."),
        ("The baker on Mill Lane has made the same seed loaf every morning since 1987, and she is not "
         "planning to change the recipe any time soon."),
        ("How a group of pupils from the harbour school built a weather station on the roof and started "
         "sending their readings to the national forecast."),
    ]
    page = page_of("Home", "News", "Sport", "Staudamm früher fertig als geplant", german, german_2, *feed)
    assert clean_text_page(page).language == "en"
    cleaned = clean_text_page(page, frozenset(line_key(line) for line in feed))
    assert cleaned.language == "de"
    assert paragraphs(cleaned.text) == [german, german_2]


def test_a_page_without_an_article_has_no_body():
    cookie_wall = page_of(
        "Valdoria Daily News",
        "We use cookies",
        (
            "We and our partners use cookies to store and access information on your device, to measure "
            "audiences and to show you personalised advertising. You can accept or manage your choices."
        ),
        "Accept all",
        "Manage choices",
        "Home",
        "News",
        "Sport",
    )
    index_page = page_of(
        "Valdoria Daily News", "Home", "Regional", "Sport",
        *(f"Council delays vote on parking fees, part {n}\nMarch {n}, 2024\nRead more" for n in range(1, 12)),
    )
    for raw in (cookie_wall, index_page, "", "   \n\n \t \n"):
        assert not has_article(clean_text_page(raw).text)


# --- hard-wrapped wire text ----------------------------------------------------------------------------

WIRE_PARAGRAPHS = [
    (
        "PORT ALDER, March 3 - The Port Alder paper mill said it would raise its output by ten pct next year "
        "after a new machine enters service in the spring, the company said in a statement on Tuesday."
    ),
    (
        "The mill, which employs about 400 people, said the new machine would cost 12 mln dlrs and would be "
        "paid for from its own cash reserves rather than with new bank loans."
    ),
    "Shares of the company rose two cents to 3.15 dlrs.",
    "Shr 22 cts vs 17 cts",
]


def wire_story(width=65):
    lines = ["PORT ALDER MILL TO RAISE OUTPUT", ""]
    for number, paragraph in enumerate(WIRE_PARAGRAPHS):
        indent = "" if number == 0 else "    "
        lines += textwrap.wrap(paragraph, width=width, initial_indent=indent)
    return "\n".join(lines) + "\n Reuter\n\x03"


def test_wire_story_is_reflowed_whole_and_signed_off():
    page = clean_text_page(wire_story())
    assert page.title == "PORT ALDER MILL TO RAISE OUTPUT"
    assert paragraphs(page.text) == WIRE_PARAGRAPHS
    assert "Reuter" not in page.text and "\x03" not in page.text


def test_wrapped_paragraphs_separated_by_blank_lines_inside_chrome():
    story = (FIRST, SECOND, AFTER_SUBHEADING, LAST)
    wrapped = "\n\n".join("\n".join(textwrap.wrap(paragraph, width=72)) for paragraph in story)
    page = clean_text_page(page_of("Home", "News", "Sport", "Weather", "", TITLE, "", wrapped, "",
                                   "Share this:", "Facebook"))
    assert page.title == TITLE
    assert paragraphs(page.text) == [FIRST, SECOND, AFTER_SUBHEADING, LAST]


def test_reflow_leaves_unwrapped_lines_alone():
    lines = normalise("Home\nNews\nSport\n\n" + FIRST + "\n" + SECOND).split("\n")
    assert reflow(lines) == ["Home", "News", "Sport", FIRST, SECOND]


def test_a_block_indented_as_a_whole_is_reflowed_into_its_paragraphs():
    indented = "\n\n".join(
        "\n".join(textwrap.wrap(paragraph, width=70, initial_indent="   ", subsequent_indent="   "))
        for paragraph in (FIRST, SECOND)
    )
    assert reflow(normalise("Status of this Memo\n\n" + indented).split("\n")) == ["Status of this Memo", FIRST, SECOND]


def test_wire_brief_inside_page_chrome_is_found_by_its_dateline():
    page = page_of(
        "Home", "News", "Markets", "Share on Facebook", "Tweet on Twitter", "Alder Holdings Qtly Dividend",
        "PORT ALDER, March 4 - Qtly div 12 cts vs 12 cts prior", "Pay April 10", "Record March 27",
        "SHARE", "Facebook", "Twitter", "Subscribe",
    )
    cleaned = clean_text_page(page)
    assert cleaned.title == "Alder Holdings Qtly Dividend"
    assert paragraphs(cleaned.text) == [
        "PORT ALDER, March 4 - Qtly div 12 cts vs 12 cts prior", "Pay April 10", "Record March 27"
    ]


def test_a_wire_brief_opening_an_article_keeps_its_lines_of_figures():
    page = page_of(
        "Home", "News", "Markets", "Share on Facebook", "Alder Holdings 4th qtr profit", "",
        "PORT ALDER, March 4 - Shr 41 cts vs 30 cts", "Net 8,150,000 vs 6,020,000", "Revs 91.3 mln vs 80.2 mln",
        FIRST, SECOND, "", "SHARE", "Facebook", "Twitter", "Subscribe",
    )
    cleaned = clean_text_page(page)
    assert paragraphs(cleaned.text) == [
        "PORT ALDER, March 4 - Shr 41 cts vs 30 cts", "Net 8,150,000 vs 6,020,000", "Revs 91.3 mln vs 80.2 mln",
        FIRST, SECOND,
    ]


def test_a_page_that_is_a_table_of_results_keeps_the_table():
    rows = [
        "Harbour Rovers 3 Kelby Town 1", "Dunmere United 0 Alder Athletic 2", "Port Alder 1 Northgate 1",
        "Valdoria City 4 Southend Wanderers 0", "Leading scorers: Mara Quist 9, Tom Reed 7",
    ]
    cleaned = clean_text_page(page_of("Home", "Sport", "Results", "", "Coastal league results", "", *rows, "",
                                      "Share this:", "Facebook"))
    assert cleaned.title == "Coastal league results"
    assert paragraphs(cleaned.text) == rows


def test_text_cut_at_an_uneven_width_is_still_prose():
    # One sentence a line, cut again before 70 columns: no line is long enough to be a paragraph alone.
    lines = [
        "Engineers in the northern province of Valdoria said on",
        "Tuesday that the upgrade of the old river dam had been",
        "finished three months ahead of schedule .",
        "The new floodgates will be tested before the spring rains,",
        "and the road over the dam will reopen to traffic in May .",
        "The works cost less than the province had set aside for them .",
    ]
    cleaned = clean_text_page("\n".join(["DAM FINISHED EARLY .", "VALDORIA 1996-08-30", *lines]))
    assert all(line in cleaned.text for line in lines)


def test_a_wrapped_article_among_many_headline_links_is_reflowed():
    story = (FIRST, SECOND, LAST)
    wrapped = "\n".join("\n".join(textwrap.wrap(paragraph, width=64)) for paragraph in story)
    links = [f"Harbour council votes on plan number {n} for the old quay" for n in range(40)]
    more = [f"Kelby ferry adds a night crossing on route number {n} in May" for n in range(10)]
    footer = "© 2024 Valdoria Daily News"  # a page of a site: not a plain export of its story
    page = clean_text_page(page_of("Valdoria Daily News", "", *links, "", TITLE, "", wrapped, "", *more, footer))
    assert paragraphs(page.text) == list(story)


# --- HTML ----------------------------------------------------------------------------------------------

HTML = f"""<!DOCTYPE html>
<html lang="en"><head><title>{TITLE} | Valdoria Daily News</title>
<meta property="og:title" content="{TITLE}">
<meta property="article:published_time" content="2024-03-05T09:30:00+01:00">
</head><body>
<nav><ul><li><a href="/">Home</a></li><li><a href="/regional">Regional</a></li>
<li><a href="/sport">Sport</a></li></ul></nav>
<div class="ad">ADVERTISEMENT</div>
<article><h1>{TITLE}</h1>
<p>{FIRST}</p><p>{SECOND}</p><h2>{SUBHEADING}</h2><p>{AFTER_SUBHEADING}</p><p>{LAST}</p>
</article>
<aside><h3>Most Viewed</h3><ul><li><a href="/a">Harbour city opens new ferry terminal</a></li>
<li><a href="/b">Local bakery wins national award</a></li></ul></aside>
<footer>Copyright © 2024 Valdoria Daily News. All rights reserved.</footer>
</body></html>"""


def test_html_through_trafilatura():
    page = clean_html_page(HTML)
    assert page.title == TITLE
    assert page.text.startswith(FIRST[:40])
    assert page.text.endswith(LAST)
    for chrome in ("ADVERTISEMENT", "Most Viewed", "ferry terminal", "Copyright", "Regional"):
        assert chrome not in page.text
    assert "\n\n\n" not in page.text
    assert page.language == "en"
    assert str(page.date_hint) == "2024-03-05"


def test_html_without_an_article_has_no_body():
    assert not has_article(clean_html_page("<html><body><nav><a href='/'>Home</a></nav></body></html>").text)
    assert not has_article(clean_html_page("").text)


# --- the stage -----------------------------------------------------------------------------------------


def document(raw, content_type="text", doc_id="d1"):
    return Document(doc_id=doc_id, source_uri=f"file:///in/{doc_id}", content_type=content_type,
                    encoding="utf-8", raw=raw)


def test_clean_document_fills_the_article_and_keeps_raw():
    original = document(PAGE)
    doc = clean_document(original)
    assert original.title is None and original.text == ""  # the input element is left as it was
    assert doc.title == TITLE
    assert paragraphs(doc.text)[0] == FIRST
    assert doc.language == "en"
    assert doc.raw == PAGE  # the dates stage reads it afterwards
    assert doc.date_hint is None


def test_clean_document_dispatches_html():
    doc = clean_document(document(HTML, content_type="html"))
    assert doc.title == TITLE
    assert doc.text.endswith(LAST)
    assert str(doc.date_hint) == "2024-03-05"


@pytest.mark.parametrize("raw", ["", "   \n\n  ", "Home\nNews\nSport\nWeather\nContact us\nShare this:"])
def test_clean_document_rejects_pages_without_article(raw):
    with pytest.raises(Rejected) as error:
        clean_document(document(raw))
    assert error.value.reason == "no article body found"


def test_clean_document_rejects_unknown_content_type():
    with pytest.raises(Rejected, match="unsupported content type"):
        clean_document(document(PAGE, content_type="pdf"))


def test_clean_documents_transform_routes_rejects():
    with beam_testing.TestPipeline() as pipeline:
        inputs = [document(PAGE, doc_id="good"), document("", doc_id="empty")]
        result = pipeline | beam.Create(inputs) | CleanDocuments()
        assert_that(result.documents | "Titles" >> beam.Map(lambda d: (d.doc_id, d.title)),
                    equal_to([("good", TITLE)]), label="documents")
        assert_that(result.rejects | "Reasons" >> beam.Map(lambda r: (r.doc_id, r.stage, r.reason)),
                    equal_to([("empty", "clean", "no article body found")]), label="rejects")
