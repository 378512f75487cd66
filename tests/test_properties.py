"""Properties of every stage's text functions on arbitrary Unicode (hypothesis): no exception, and what
each returns stays consistent with its input."""
import datetime as dt

from hypothesis import given, settings
from hypothesis import strategies as st

from schemas.records import Document
from transforms.clean import clean_text_page, has_article
from transforms.date_mentions import find_dates
from transforms.dates import extract_publication_date
from transforms.dedupe import candidate_of, content_hash, estimated_jaccard
from transforms.entities import TITLE_OFFSET, annotate, load_model
from transforms.read import decode_bytes
from transforms.routing import Rejected

TEXT = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=400)
# Page-like text: lines of words, digits, month names and punctuation, which reach deeper into the rules.
WORDS = st.sampled_from(["The", "council", "said", "on", "Monday", "March", "3", "2017", "|", "//", "Share",
                         "BEIRUT,", "Jan", "20", "(Reuters)", "-", "é", "Ω", "\t", "\x00", "©", "..."])
PAGE = st.lists(st.lists(WORDS, max_size=14).map(" ".join), max_size=40).map("\n".join)


@settings(max_examples=150, deadline=None)
@given(st.one_of(TEXT, PAGE))
def test_clean_never_fails_and_returns_clean_paragraphs(raw):
    page = clean_text_page(raw)
    assert page.title is None or "\n" not in page.title
    assert "\n\n\n" not in page.text and page.text == page.text.strip()
    assert "\x00" not in page.text and "\t" not in page.text
    assert has_article(page.text) in (True, False)


@settings(max_examples=500, deadline=None)
@given(st.one_of(TEXT, PAGE))
def test_cleaning_a_clean_page_again_only_ever_removes(raw):
    """Not strict idempotence (a second pass may still drop a leftover chrome line, or take the first body
    line for the title): a second pass never adds or changes text, it only keeps a subset."""
    first = clean_text_page(raw)
    again = clean_text_page(f"{first.title}\n\n{first.text}" if first.title else first.text)
    before = {first.title, *first.text.split("\n\n")} - {None, ""}
    after = {again.title, *again.text.split("\n\n")} - {None, ""}
    assert after <= before


@settings(max_examples=150, deadline=None)
@given(st.one_of(TEXT, PAGE), st.one_of(st.none(), st.dates(dt.date(1980, 1, 1), dt.date(2030, 1, 1))))
def test_dates_never_fail_and_stay_plausible(page, reference):
    result = extract_publication_date(page, page, None, "file:///d/x.txt", reference)
    if result.published_date is not None:
        assert result.published_date <= (reference or dt.date.today()) + dt.timedelta(days=2)
        assert 0.0 < result.confidence <= 1.0
    for mention in find_dates(page):
        assert 0 <= mention.start < mention.end <= len(page)


@settings(max_examples=100, deadline=None)
@given(st.one_of(TEXT, PAGE))
def test_dedupe_signatures_are_deterministic_and_a_text_is_its_own_copy(text):
    doc = Document("id", "file:///x.txt", "text", "utf-8", text=text)
    a, b = candidate_of(doc), candidate_of(doc)
    assert a.signature == b.signature and content_hash(text) == a.content_hash
    assert estimated_jaccard(a.signature, b.signature) == 1.0


@settings(max_examples=150, deadline=None)
@given(st.binary(max_size=600))
def test_decoding_arbitrary_bytes_gives_text_or_a_reason(data):
    try:
        text, encoding = decode_bytes(data)
    except Rejected as error:  # a reject row with this reason, never a crash
        assert error.reason.startswith("undecodable")
        return
    assert isinstance(text, str) and encoding


_NLP = []


def _nlp():
    if not _NLP:
        _NLP.append(load_model())
    return _NLP[0]


@settings(max_examples=60, deadline=None)
@given(st.one_of(TEXT, PAGE), st.one_of(st.none(), TEXT.map(lambda t: t[:80])))
def test_entity_offsets_always_point_into_the_text(text, title):
    doc = Document("id", "file:///x.txt", "text", "utf-8", text=text, title=title, language="en")
    [annotated] = annotate(_nlp(), [doc])
    for entity in annotated.entities:
        assert entity.start == TITLE_OFFSET == entity.end or text[entity.start:entity.end] == entity.text
