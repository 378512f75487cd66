"""Dates an article mentions: found by narrow patterns, relative ones read by dateparser.

Every sentence here is written for these tests.
"""
import datetime as dt

from hypothesis import given, settings
from hypothesis import strategies as st

from schemas.records import Document
from transforms.mentions import DAY, MONTH, mention_document, mentioned_dates, nearest_year

PUBLISHED = dt.date(2017, 11, 20)  # a Monday


def found(text, published=PUBLISHED, language="en"):
    return [(m.text, m.date, m.granularity) for m in mentioned_dates(text, published, language)]


def test_absolute_dates_and_months_with_a_year():
    assert found("The ferry opened on 3 November 2017 and closed in March 2018.") == [
        ("3 November 2017", "2017-11-03", DAY), ("March 2018", "2018-03", MONTH)]
    assert found("El puerto abrió en octubre de 2016.", language="es") == [("octubre de 2016", "2016-10", MONTH)]


def test_weekdays_are_the_latest_such_day_not_after_the_article_that_day_included():
    assert found("The council said on Monday it met on Friday.") == [
        ("Monday", "2017-11-20", DAY), ("Friday", "2017-11-17", DAY)]
    assert found("Der Rat tagte am Freitag.", language="de") == [("Freitag", "2017-11-17", DAY)]
    assert found("Совет собрался в среду.", language="ru") == [("среду", "2017-11-15", DAY)]


def test_relative_days_and_periods_are_read_by_dateparser_against_the_publication_date():
    assert found("Sales fell yesterday after rising last month.") == [
        ("yesterday", "2017-11-19", DAY), ("last month", "2017-10", MONTH)]
    assert found("Le port a fermé le mois dernier.", language="fr") == [("le mois dernier", "2017-10", MONTH)]
    assert found("Die Preise stiegen letzten Monat.", language="de") == [("letzten Monat", "2017-10", MONTH)]


def test_a_month_after_a_preposition_is_the_latest_such_month_not_after_the_article():
    assert found("Work began in October and ends in December.") == [
        ("October", "2017-10", MONTH), ("December", "2016-12", MONTH)]
    assert found("Las obras empezaron en octubre.", language="es") == [("octubre", "2017-10", MONTH)]


def test_a_day_without_a_year_takes_the_year_closest_to_the_article():
    assert found("The vote is set for Jan 9 and the last one was on Oct 2.") == [
        ("Jan 9", "2018-01-09", DAY), ("Oct 2", "2017-10-02", DAY)]
    assert nearest_year(2, 29, dt.date(2021, 3, 1)) == dt.date(2020, 2, 29)


def test_known_false_positives_of_date_parsers_are_not_dates():
    # dateparser's search_dates reads all of these as dates.
    text = ("The fund raised 100M, a 5/8 share, after six years of work; you may recall the march on the "
            "square, and the 2017 budget of 12.5 million.")
    assert found(text) == []


def test_without_a_publication_date_only_absolute_dates_are_kept():
    assert found("On Friday, a week after 3 November 2017, prices fell last month.", published=None) == [
        ("3 November 2017", "2017-11-03", DAY)]


def test_languages_without_patterns_keep_absolute_dates_only():
    assert found("Friday 3 November 2017", language="xx") == [("3 November 2017", "2017-11-03", DAY)]


def test_mention_document_fills_the_column_from_the_body():
    doc = Document("id", "file:///a.txt", "text", "utf-8", text="It rained on Sunday.", published_date=PUBLISHED,
                   language="en")
    assert [m.date for m in mention_document(doc).mentioned_dates] == ["2017-11-19"]


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=300),
       st.sampled_from(["en", "de", "fr", "es", "pt", "it", "ru", None]))
def test_arbitrary_text_never_fails_and_offsets_point_at_the_mention(text, language):
    for mention in mentioned_dates(text, PUBLISHED, language):
        assert 0 <= mention.start < mention.end <= len(text)
        assert text[mention.start:mention.end] == mention.text


def test_a_day_before_its_month_ends_before_the_sentence_dot():
    assert found("Die Sitzung war am 19. Januar. Sie endete am 2. Februar.", language="de") == [
        ("19. Januar", "2018-01-19", DAY), ("2. Februar", "2018-02-02", DAY)]
