"""The dates stage: every kind of date signal, the chrome that must be ignored, and inputs that must not crash.

All fixtures are fictional news text written for these tests.
"""
import datetime as dt
import random
import socket

import apache_beam as beam
import pytest
from apache_beam.testing.test_pipeline import TestPipeline as BeamTestPipeline
from apache_beam.testing.util import assert_that, equal_to

from schemas.records import Document
from transforms.date_markup import html_to_text, markup_candidates, stated_address
from transforms.date_mentions import find_dates
from transforms.date_reference import reference_from_uri, resolve_year
from transforms.date_scoring import CONFIDENCE_THRESHOLD, DateResult
from transforms.dates import DateDocuments, date_document, extract_publication_date

D = dt.date
BODY = (
    "The harbour council of Eastmere voted on Tuesday to close the old ferry pier for repairs.\n\n"
    "Mayor Ilse Brandvold said the work would take most of the summer."
)
TITLE = "Eastmere closes its old ferry pier"


def page_of(*lines: str) -> str:
    return "\n".join(lines)


def extract(page: str, body: str = BODY, title: str | None = TITLE, uri: str = "file:///dump/story.txt", **kw):
    return extract_publication_date(page, body, title, uri, **kw)


# --- each kind of candidate -------------------------------------------------------------------------------


def test_byline_with_spaced_numeric_date():
    page = page_of("Home | Region", TITLE, "", "Published in The Eastmere Courier on 21 - 01 - 2017", "", BODY)
    result = extract(page)
    assert result.published_date == D(2017, 1, 21)
    assert result.date_source == "byline"
    assert result.confidence >= 0.8


def test_dateline_with_year_at_body_start():
    body = "AFP, November 11, 2017 \u2013 The harbour council of Eastmere voted to close the pier.\n\nMore."
    page = page_of(TITLE, "", body)
    result = extract(page, body)
    assert (result.published_date, result.date_source) == (D(2017, 11, 11), "dateline")


def test_wire_dateline_with_agency_and_reference_date():
    body = "EASTMERE, Jan 20 (Reuters) - The harbour council voted to close the pier.\n\nMore."
    result = extract(page_of(TITLE, "", body), body, reference_date=D(2017, 1, 25))
    assert (result.published_date, result.date_source) == (D(2017, 1, 20), "dateline")


def test_yearless_dateline_resolved_from_delivery_folder():
    body = "SALVADOR, Feb 26 - Showers continued over the cocoa zone this week.\n    More wrapped text."
    page = "COCOA ZONE WEEKLY REVIEW\n\n" + body + "\n Reuter\n"
    result = extract(page, body, "COCOA ZONE WEEKLY REVIEW", "file:///corpus/wire/1987-02/story-00001.txt")
    assert (result.published_date, result.date_source) == (D(1987, 2, 26), "dateline")


def test_yearless_dateline_with_state_abbreviation():
    body = "RICHMOND, Va. Feb 26 - Qtly div eight cts vs seven cts prior"
    result = extract(body, body, None, "file:///wire/1987-03/a.txt")
    assert result.published_date == D(1987, 2, 26)


def test_yearless_dateline_takes_the_closest_year_not_after_the_reference():
    body = "OSLO, March 30 - The fjord ferry company raised its fares."
    assert extract(body, body, None, "x", reference_date=D(2020, 4, 2)).published_date == D(2020, 3, 30)
    assert extract(body, body, None, "x", reference_date=D(2020, 3, 1)).published_date == D(2019, 3, 30)


def test_yearless_dateline_falls_back_to_the_file_modification_day():
    body = "OSLO, March 30 - The fjord ferry company raised its fares."
    modified = dt.datetime(2021, 2, 10, 8, 30, tzinfo=dt.timezone.utc)
    assert extract_publication_date(body, body, None, "file:///dump/story.txt", modified_at=modified
                                    ).published_date == D(2020, 3, 30)
    # A date folder in the path comes first, an explicit reference before both.
    assert extract_publication_date(body, body, None, "file:///dump/2019-05/story.txt", modified_at=modified
                                    ).published_date == D(2019, 3, 30)
    assert extract_publication_date(body, body, None, "file:///dump/2019-05/story.txt", D(2018, 4, 1),
                                    modified_at=modified).published_date == D(2018, 3, 30)


def test_yearless_dateline_without_any_reference_gives_no_date():
    body = "OSLO, March 30 - The fjord ferry company raised its fares."
    assert extract(body, body, None, "file:///dump/story.txt").published_date is None


def test_header_date_is_used_when_it_is_the_only_signal():
    page = page_of("Saturday, 4 November 2017", "", TITLE, "", BODY)
    result = extract(page)
    assert (result.published_date, result.date_source) == (D(2017, 11, 4), "header")
    assert result.confidence >= CONFIDENCE_THRESHOLD


def test_header_date_after_the_delivery_folder_is_a_crawl_date():
    page = page_of("Friday, November 22, 2024", "", TITLE, "", BODY)
    assert extract(page, uri="file:///dumps/2024-03/outlet/story.txt").published_date is None
    assert extract(page, uri="file:///dumps/2024-12/outlet/story.txt").published_date == D(2024, 11, 22)


def test_crawl_day_header_loses_to_the_dateline():
    body = "AFP, November 11, 2017 \u2013 The harbour council voted to close the pier.\n\nMore."
    page = page_of("Thursday, March 28, 2024", "HomeNEWSWORLD NEWS" + TITLE, "", TITLE, "", body)
    result = extract(page, body)
    assert (result.published_date, result.date_source) == (D(2017, 11, 11), "dateline")


def test_a_first_line_date_later_than_a_date_line_of_the_article_is_the_crawl_day():
    paragraphs = [
        "The harbour council of Eastmere voted on Tuesday to close the old ferry pier for repairs.",
        "Mayor Ilse Brandvold said the work would take most of the summer.",
        "The ferry will land at the north quay until the pier reopens in September.",
    ]
    menu = [f"  \u2022 Section {number}" for number in range(12)]
    article = [TITLE, "", paragraphs[0], "", paragraphs[1], "", "27.04.2020 - 18:50", "", paragraphs[2]]
    body = "\n\n".join(paragraphs)
    assert extract(page_of("Wednesday, 8 July 2020", *menu, *article), body).published_date == D(2020, 4, 27)
    # Below the first line, a header date is no crawl day: a blog's date in its menu.
    assert extract(page_of("Harbour Notes", "8 July 2020", *menu, *article), body).published_date == D(2020, 7, 8)


def test_date_line_under_the_title():
    page = page_of("Menu", "Sports", "Weather", TITLE, "", "By Kari Holm", "-", "Oct 10, 2023", "", BODY)
    assert extract(page).published_date == D(2023, 10, 10)


def test_published_date_beats_updated_date():
    page = page_of(TITLE, "Updated: 14.03.2022, 10:15", "Published: 12.03.2022, 08:00", "", BODY)
    assert extract(page).published_date == D(2022, 3, 12)


def test_reader_comments_do_not_date_the_article():
    page = page_of(TITLE, "3. Mai 2021", "", BODY, "", "Kommentare", "7. Mai 2021 um 10:02 · Antworten")
    assert extract(page).published_date == D(2021, 5, 3)


def test_date_in_web_address():
    result = extract(page_of(TITLE, "", BODY), uri="https://news.example.org/2018/06/28/eastmere-pier")
    assert (result.published_date, result.date_source) == (D(2018, 6, 28), "url")


def test_date_in_file_path():
    result = extract(page_of(TITLE, "", BODY), uri="file:///dumps/2021-03-04/pier.txt")
    assert (result.published_date, result.date_source) == (D(2021, 3, 4), "path")
    assert extract(page_of(TITLE, "", BODY), uri="file:///dumps/20210304_pier.txt").published_date == D(2021, 3, 4)


def test_digits_inside_a_hashed_file_name_are_not_a_date():
    assert extract(page_of(TITLE, "", BODY), uri="file:///dumps/3f20190512ab9c.txt").published_date is None


def test_metadata_hint():
    result = extract(page_of(TITLE, "", BODY), hint=D(2019, 5, 6))
    assert (result.published_date, result.date_source) == (D(2019, 5, 6), "html-meta")


def test_metadata_hint_given_as_datetime():
    result = extract(page_of(TITLE, "", BODY), hint=dt.datetime(2019, 5, 6, 23, 59))
    assert result.published_date == D(2019, 5, 6)


# --- epoch timestamps ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "stamp", ["1484931919", "1484931919326", "1484931919326450", "1484931919326450600"], ids=["s", "ms", "us", "ns"]
)
def test_epoch_timestamp_on_its_own_line(stamp):
    page = page_of("Just in:", TITLE, "", stamp, "", BODY)
    result = extract(page)
    assert (result.published_date, result.date_source) == (D(2017, 1, 20), "timestamp")


@pytest.mark.parametrize("stamp", ["123456789012", "9999999999", "4102444800000"], ids=["1973", "2286", "2100"])
def test_implausible_epochs_are_ignored(stamp):
    assert extract(page_of(TITLE, "", stamp, "", BODY)).published_date is None


def test_number_inside_a_sentence_is_not_a_timestamp():
    page = page_of(TITLE, "", "Order number 1484931919 was shipped.", BODY)
    assert extract(page).published_date is None


# --- chrome that is never a publication date ----------------------------------------------------------------


def test_ticker_dates_are_ignored():
    ticker = (
        "Harbour fees rise // Comic strip for Thu, 28 Mar 2024 // Ferry timetable changes // "
        "Local choir wins prize //"
    )
    assert extract(page_of("Just in:", ticker, TITLE, "", BODY)).published_date is None
    with_stamp = page_of("Just in:", ticker, TITLE, "", "1484931919326450600", "", BODY)
    assert extract(with_stamp).published_date == D(2017, 1, 20)


def test_digits_glued_to_a_menu_label_are_ignored():
    page = page_of("01262020What's Hot:", "", TITLE, "", BODY, "", "In 2015, the pier was repainted.")
    assert extract(page) == DateResult(None, None, 0.0)


def test_copyright_years_and_lines_are_ignored():
    page = page_of(TITLE, "", BODY, "", "© 2014 Eastmere Courier, 01.02.2014. All rights reserved.")
    assert extract(page).published_date is None


def test_future_dates_are_ignored():
    page = page_of(TITLE, "12 June 2031", "", BODY)
    assert extract(page, reference_date=D(2024, 1, 1)).published_date is None


def test_a_weak_date_htmldate_picks_too_is_the_last_resort_of_a_text_page():
    footer = (
        "This entry was posted by the harbour desk and filed under Eastmere, Ferries and Council, and it was "
        "written on Saturday, 3 December 2011 at 10:00; you can follow any responses through the feed."
    )
    result = extract(page_of(TITLE, "", BODY, "", footer))
    assert (result.published_date, result.date_source, result.confidence) == (D(2011, 12, 3), "htmldate-text", 0.3)


def test_page_without_any_date():
    assert extract(page_of("Menu", TITLE, "", BODY)) == DateResult(None, None, 0.0)


# --- languages and formats ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "line, expected",
    [
        ("Veröffentlicht am 3. März 2021, 10:15 Uhr", D(2021, 3, 3)),
        ("Stand: 7. Dezember 2022", D(2022, 12, 7)),
        ("Publié le 5 février 2019 à 08h00", D(2019, 2, 5)),
        ("Mis en ligne le 1er janvier 2020", D(2020, 1, 1)),
        ("Publicado el 21 de enero de 2017", D(2017, 1, 21)),
        ("Publicado em 9 de março de 2018", D(2018, 3, 9)),
        ("Pubblicato il 14 settembre 2016", D(2016, 9, 14)),
        ("Опубликовано 21 января 2017 г.", D(2017, 1, 21)),
        ("Posted on June 28th, 2018 by Kari", D(2018, 6, 28)),
    ],
)
def test_month_names_in_several_languages(line, expected):
    assert extract(page_of(TITLE, line, "", BODY)).published_date == expected


@pytest.mark.parametrize(
    "text, expected",
    [
        ("21.01.2017", D(2017, 1, 21)),
        ("2017-01-21T08:00:00Z", D(2017, 1, 21)),
        ("2017/01/21", D(2017, 1, 21)),
        ("21/01/2017", D(2017, 1, 21)),
        ("01/21/2017", D(2017, 1, 21)),
        ("07.11.23", D(2023, 11, 7)),
        ("Sep. 3, 2019", D(2019, 9, 3)),
        ("31 Okt, 2023", D(2023, 10, 31)),
        ("Jane Roe3.11.2023", D(2023, 11, 3)),
    ],
)
def test_date_formats(text, expected):
    mentions = find_dates(text)
    assert [dt.date(m.year, m.month, m.day) for m in mentions] == [expected]


@pytest.mark.parametrize("text", ["1.2.3", "version 10.12.15.4", "01262020What's Hot:", "31.02.2020", "Page 5 2020"])
def test_not_dates(text):
    assert find_dates(text) == []


def test_slashed_dates_follow_the_page_order_of_named_dates():
    us_page = "May 3, 2020 was a Sunday. Posted 06/05/2020"
    assert [(m.month, m.day) for m in find_dates(us_page)][-1] == (6, 5)
    assert [(m.month, m.day) for m in find_dates("Posted 06/05/2020")] == [(5, 6)]


# --- reference day -------------------------------------------------------------------------------------------


def test_reference_from_uri_folders():
    assert reference_from_uri("file:///c/reuters/1987-02/reut-00001.txt") == D(1987, 2, 28)
    assert reference_from_uri("s3://bucket/2019/news.txt") == D(2019, 12, 31)
    assert reference_from_uri("/data/2021-03-04/a.txt") == D(2021, 3, 4)
    assert reference_from_uri("/data/story.txt") is None


def test_resolve_year_handles_leap_days():
    assert resolve_year(2, 29, D(2023, 6, 1)) == D(2020, 2, 29)
    assert resolve_year(12, 31, D(2001, 1, 1)) == D(2000, 12, 31)


# --- nonsense input never raises ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "page, body, title, uri",
    [
        ("", "", None, ""),
        (None, None, None, None),
        ("\n\n\n", "  ", "", "#"),
        ("\x00\x01\x02 12.13.2020 99/99/9999 2020-00-00", "\x7f", "\ufffd", "http://"),
        ("Feb 30, 2020 and 31 April 2021 and 29.02.2023", "", None, "file:///x/0000-00/y"),
        ("SALVADOR, Feb 29 - leap", "SALVADOR, Feb 29 - leap", None, "file:///x/1987-02/y"),
    ],
)
def test_odd_inputs_never_raise(page, body, title, uri):
    result = extract_publication_date(page, body, title, uri)
    assert isinstance(result, DateResult)


def test_extreme_reference_dates_never_raise():
    for reference in (D.min, D.max, dt.datetime(2020, 1, 1, 12)):
        extract(page_of(TITLE, "3 May 2019", "", BODY), reference_date=reference)


def test_random_unicode_never_raises():
    rng = random.Random(7)
    alphabet = "0123456789 .-/:,\n\tabcXYZäöüßéñжя中文\u00a0\u2013//Feb Mär 2020 19 20 \ufeff\U0001f600"
    for _ in range(300):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 400)))
        result = extract_publication_date(text, text[::-1], text[:20], text[:30])
        assert result.published_date is None or result.published_date <= dt.date.today() + dt.timedelta(days=1)


def test_huge_page_is_fast_enough_and_never_raises():
    filler = "Menu item with 2021 numbers and 12.12.2012 things // more // and more\n" * 40_000
    page = filler + "\n" + TITLE + "\n3 May 2021\n\n" + BODY
    result = extract(page)
    assert isinstance(result, DateResult)


# --- the stage ----------------------------------------------------------------------------------------------


def doc(raw: str, **fields) -> Document:
    fields.setdefault("text", BODY)
    fields.setdefault("title", TITLE)
    fields.setdefault("content_type", "text")
    return Document(doc_id=str(hash(raw)), source_uri="file:///dump/a.txt", encoding="utf-8", raw=raw, **fields)


def test_date_document_fills_the_fields_and_keeps_the_input_unchanged():
    original = doc(page_of(TITLE, "Published: 12.03.2022", "", BODY))
    dated = date_document(original)
    assert (dated.published_date, dated.date_source) == (D(2022, 3, 12), "byline")
    assert dated.date_confidence >= CONFIDENCE_THRESHOLD
    assert original.published_date is None


def test_date_document_without_a_date_is_not_rejected():
    dated = date_document(doc(page_of(TITLE, "", BODY)))
    assert (dated.published_date, dated.date_source, dated.date_confidence) == (None, None, 0.0)


def test_date_document_reads_html_pages():
    html = (
        "<html><head><script>var t = '2030-01-01';</script></head><body><h1>" + TITLE + "</h1>"
        "<p class='date'>Published&nbsp;3 May 2021</p><p>" + BODY + "</p></body></html>"
    )
    assert date_document(doc(html, content_type="html")).published_date == D(2021, 5, 3)


def test_date_document_uses_the_reference_date():
    body = "OSLO, March 30 - The fjord ferry company raised its fares."
    dated = date_document(doc(body, text=body, title=None), reference_date=D(2020, 4, 2))
    assert dated.published_date == D(2020, 3, 30)


def test_date_documents_transform():
    docs = [doc(page_of(TITLE, "Published: 12.03.2022", "", BODY)), doc(page_of(TITLE, "", BODY))]
    with BeamTestPipeline() as pipeline:
        outputs = pipeline | beam.Create(docs) | DateDocuments(reference_date=D(2024, 1, 1))
        dates = outputs.documents | beam.Map(lambda d: d.published_date)
        assert_that(dates, equal_to([D(2022, 3, 12), None]), label="dates")
        assert_that(outputs.rejects, equal_to([]), label="no rejects")


def teasers(*days: str) -> list[str]:
    """A made-up list of other stories, each with its date on a line of its own."""
    lines = []
    for number, day in enumerate(days):
        lines += [f"  \u2022 Other harbour story number {number}", "", f"      {day}"]
    return lines


def test_the_dates_of_a_listing_lose_to_the_articles_own():
    most_read = teasers("27. Oktober 2023", "25. Oktober 2023", "24. Oktober 2023")
    page = page_of("Home | Region", "Most read", *most_read, TITLE, "", "Ilse Brandvold 15. Oktober 2023", "", BODY)
    assert extract(page).published_date == D(2023, 10, 15)


@pytest.mark.parametrize("heading", ["Read also:", "Lesen Sie auch", "\u2022 Related stories", "\u00c0 lire aussi"])
def test_the_date_of_a_story_under_a_related_heading_is_not_the_articles(heading):
    sidebar = [heading, "Pier repairs delayed again", "12.01.2021", "", "Home", "Region", "Sport", "Weather"]
    page = page_of(*sidebar, TITLE, "03.05.2021", "", BODY)
    assert extract(page).published_date == D(2021, 5, 3)


def test_dates_written_alike_far_apart_are_not_a_listing():
    page = page_of(TITLE, "Posted on 3 May 2021", "", BODY, *["Footer links"] * 20, "Posted on 1 May 2021",
                   *["More footer links"] * 20, "Posted on 28 April 2021")
    result = extract(page)
    assert (result.published_date, result.confidence) == (D(2021, 5, 3), 1.0)


def test_timestamp_beats_a_header_date():
    page = page_of("Thursday, March 28, 2024", TITLE, "", "1484931919", "", BODY)
    assert extract(page).published_date == D(2017, 1, 20)


def test_timestamp_far_below_the_article_is_weaker_than_the_date_under_the_title():
    footer = ["Related stories", "Footer links"] * 20 + ["1780961418"]
    page = page_of(TITLE, "3 May 2021", "", BODY, *footer)
    assert extract(page).published_date == D(2021, 5, 3)


def test_epoch_on_the_first_or_the_last_line_of_the_page():
    assert extract(page_of("1484931919", TITLE, "", BODY)).published_date == D(2017, 1, 20)
    assert extract("1484931919326", body="", title=None).published_date == D(2017, 1, 20)


# --- dates in the HTML markup ---------------------------------------------------------------------------


def html_page(head: str = "", byline: str = "", teasers: str = "") -> str:
    """A made-up article page: `head` markup, a byline paragraph under the title, teasers after the body."""
    return (
        f"<html><head><title>{TITLE}</title>{head}</head><body><nav>Home | Region</nav>"
        f"<h1>{TITLE}</h1><p class='meta'>{byline}</p><p>{BODY}</p>{teasers}</body></html>"
    )


def extract_html(html: str, hint: dt.date | None = None, **kw):
    return extract(html_to_text(html), hint=hint, html=html, **kw)


def kinds(html: str) -> dict[float, dt.date]:
    return {c.score: c.date for c in markup_candidates(html)}


def test_markup_fields_by_kind_first_of_each_kind():
    html = html_page(
        '<meta property="article:published_time" content="2021-05-03T10:00:00+02:00">'
        '<meta name="date" content="2021-05-04">'
        '<script type="application/ld+json">{"dateModified": "2021-05-06T08:00:00+02:00"}</script>',
        teasers='<time itemprop="datePublished" datetime="2019-01-01">1 Jan 2019</time>',
    )
    assert kinds(html) == {0.85: D(2021, 5, 3), 0.45: D(2021, 5, 4), 0.35: D(2021, 5, 6)}


def test_markup_time_tag_json_ld_and_text_values():
    assert kinds('<time class="entry-date published" datetime="2020-02-01T09:00">') == {0.85: D(2020, 2, 1)}
    assert kinds('{"@type": "NewsArticle", "datePublished": "2020-02-03"}') == {0.85: D(2020, 2, 3)}
    assert kinds('<meta content="27.04.2020 18:50" name="vr:published-time"/>') == {0.85: D(2020, 4, 27)}
    assert kinds('<meta property="og:title" content="2020-02-03 in review">') == {}


def test_utc_time_near_midnight_is_an_uncertain_day():
    late = '<meta property="article:published_time" content="2023-11-09T02:11:03+00:00">'
    assert kinds(late) == {0.6: D(2023, 11, 9)}
    assert kinds(late.replace("02:11", "14:11")) == {0.85: D(2023, 11, 9)}
    # Another field writes the same day in local time: the day is sure.
    local = late + '<script>{"datePublished": "2023-11-09T03:11:03"}</script>'
    assert kinds(local) == {0.85: D(2023, 11, 9)}


def test_the_byline_day_beats_a_utc_markup_day_near_midnight():
    html = html_page('<meta property="article:published_time" content="2023-11-09T02:11:03Z">', "November 8, 2023")
    assert extract_html(html, hint=D(2023, 11, 9)).published_date == D(2023, 11, 8)


def test_a_shown_date_the_markup_names_as_modified_beats_an_unshown_published_date():
    head = (
        '<meta property="article:published_time" content="2019-06-17T10:00:00+02:00">'
        '<meta property="article:modified_time" content="2020-06-04T10:00:00+02:00">'
    )
    html = html_page(head, "Updated 4 June 2020")
    result = extract_html(html, hint=D(2019, 6, 17))
    assert (result.published_date, result.date_source) == (D(2020, 6, 4), "byline")


def test_shown_publication_date_beats_a_shown_modification():
    head = (
        '<meta property="article:published_time" content="2019-06-17T10:00:00+02:00">'
        '<meta property="article:modified_time" content="2020-06-04T10:00:00+02:00">'
    )
    html = html_page(head, "17 June 2019 | Updated 4 June 2020")
    assert extract_html(html).published_date == D(2019, 6, 17)


def test_a_teaser_date_after_the_article_is_not_confirmed_by_the_markup():
    head = '<meta property="article:published_time" content="2021-05-03T10:00:00+02:00">'
    teasers = "".join(f"<h3>Other story {i}</h3><p>{i} June 2021</p>" for i in range(1, 4))
    teasers += '<meta itemprop="dateModified" content="2021-06-02">'
    html = html_page(head, "", teasers)
    assert extract_html(html).published_date == D(2021, 5, 3)


def test_a_plain_date_field_ranks_below_a_date_line_under_the_title():
    html = html_page('<meta name="date" content="2020-02-12">', "05.02.2020")
    assert extract_html(html, hint=D(2020, 2, 12)).published_date == D(2020, 2, 5)
    # Alone, the plain date field is the answer.
    assert extract_html(html_page('<meta name="date" content="2020-02-12">')).published_date == D(2020, 2, 12)


def test_a_hint_no_markup_field_names_loses_to_a_date_line_under_the_title():
    html = html_page("", "20.09.2020")
    assert extract_html(html, hint=D(2020, 9, 22)).published_date == D(2020, 9, 20)
    # The markup was not read: the hint keeps its weight.
    assert extract(html_to_text(html), hint=D(2020, 9, 22)).published_date == D(2020, 9, 22)


def test_an_ambiguous_slashed_date_is_read_the_way_the_markup_confirms():
    head = '<meta property="article:published_time" content="2021-11-01T09:00:00+01:00">'
    result = extract_html(html_page(head, "11/01/2021"))
    assert (result.published_date, result.date_source) == (D(2021, 11, 1), "page")
    # Dotted dates are day first: never read the other way round.
    head = '<meta name="date" content="2023-01-11">'
    assert extract_html(html_page(head, "Published 01.11.2023")).published_date == D(2023, 11, 1)


def test_written_is_a_publication_cue():
    page = page_of(TITLE, "Updated: 2023-11-08 09:00", "Written: 2023-11-07 15:03", "", BODY)
    assert extract(page).published_date == D(2023, 11, 7)


def test_html_to_text_drops_long_tags_and_keeps_text_after_a_stray_angle_bracket():
    attributes = " ".join(f'data-item-{i}="{{&quot;end&quot;: &quot;2031-02-28&quot;}}"' for i in range(200))
    text = html_to_text(f"<div {attributes}>3 May 2021</div><p>a < b and 2 > 1</p>")
    assert "2031" not in text
    assert "3 May 2021" in text and "a < b and 2 > 1" in text


# --- htmldate, one more reader of the HTML ------------------------------------------------------------------


def test_a_date_only_htmldate_reads_in_the_markup_is_the_answer():
    html = html_page(byline='<abbr class="published" title="2021-05-03T10:00:00">May 3</abbr>')
    result = extract_html(html)
    assert (result.published_date, result.date_source) == (D(2021, 5, 3), "htmldate")


def test_a_date_only_htmldate_finds_in_the_text_is_a_weak_answer():
    story = (
        "The pier was first closed on 3 May 2021 after a storm, and the council has argued ever since about "
        "who should pay for the repairs, the harbour board or the town itself, which owns the land."
    )
    result = extract_html(html_page(teasers=f"<p>{story}</p>"))
    assert (result.published_date, result.date_source) == (D(2021, 5, 3), "htmldate-text")
    assert result.confidence < 0.45  # any date line in the byline area beats it
    dated = html_page(byline="20.09.2020", teasers=f"<p>{story}</p>")
    assert extract_html(dated).published_date == D(2020, 9, 20)


def test_htmldate_never_answers_after_the_reference_day_nor_with_a_year_alone():
    html = html_page(byline='<abbr class="published" title="2021-05-03T10:00:00">May 3</abbr>')
    # Its text search then finds the year 2021 alone ("2021-01-01"): no day.
    assert extract_html(html, reference_date=D(2021, 4, 1)).published_date is None


def test_htmldate_never_downloads_a_page_that_looks_like_a_web_address(monkeypatch):
    attempts = []  # recorded, not raised: the dates stage would take an error for "no htmldate day"

    def no_network(*args, **kwargs):
        attempts.append(args)
        raise OSError("no network in the dates stage")

    for name in ("getaddrinfo", "create_connection"):
        monkeypatch.setattr(socket, name, no_network)
    monkeypatch.setattr(socket.socket, "connect", no_network)
    for raw in ("https://example.com/2021/05/03/pier.html", "http://example.com/", html_page()):
        date_document(doc(raw, content_type="html", url="https://example.com/news/pier"))
    assert attempts == []


def test_the_address_a_page_states_for_itself_is_read_for_dates():
    head = '<link rel="canonical" href="https://example.com/news/2021/05/03/pier">'
    result = extract_html(html_page(head))
    assert (result.published_date, result.date_source) == (D(2021, 5, 3), "url")
    assert stated_address('<meta property="og:url" content="https://example.com/2020/02/01/x">') == (
        "https://example.com/2020/02/01/x"
    )
    assert stated_address('<link rel="canonical" href="/2020/02/01/x">') is None  # not a web address
    # The address the input gives wins over the one the page states.
    dated = date_document(doc(html_page(head), content_type="html", url="https://example.com/2021/06/07/pier"))
    assert dated.published_date == D(2021, 6, 7)


def test_huge_html_page_is_read_and_never_raises():
    others = "<div class='teaser'><a href='/x'>Other story</a> 12.12.2012</div>\n" * 50_000
    html = html_page('<meta property="article:published_time" content="2021-05-03T10:00:00+02:00">', teasers=others)
    assert extract_html(html).published_date == D(2021, 5, 3)


def test_date_documents_transform_reads_html_with_htmldate():
    html = html_page(byline='<abbr class="published" title="2021-05-03T10:00:00">May 3</abbr>')
    with BeamTestPipeline() as pipeline:
        outputs = pipeline | beam.Create([doc(html, content_type="html")]) | DateDocuments()
        dated = outputs.documents | beam.Map(lambda d: (d.published_date, d.date_source))
        assert_that(dated, equal_to([(D(2021, 5, 3), "htmldate")]), label="dates")
        assert_that(outputs.rejects, equal_to([]), label="no rejects")
