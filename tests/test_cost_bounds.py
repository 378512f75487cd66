"""Every document has a bounded cost: line rules linear in the line's length, sentence marking linear in
the number of lines, work limits on what no news page needs, and a time limit per document and stage."""
import time

import pytest
import spacy

from transforms.clean import MAX_PAGE_CHARS, clean_document
from transforms.entities import mark_boundaries  # noqa: F401 - registers the "newsflow_boundaries" component
from transforms.read import document_from_bytes
from transforms.routing import Rejected, time_limit

STORY = ("Harbour board approves night ferry\n\n"
         "The harbour board met on Tuesday and approved a night ferry to the islands, officials said.\n\n"
         "The first crossing is planned for the spring, when the new pier opens.\n")


def _page(line: str) -> bytes:
    return (STORY + "\n" + line + "\n").encode()


def _seconds(work, repeats: int = 3) -> float:
    best = float("inf")
    for _ in range(repeats):
        started = time.perf_counter()
        work()
        best = min(best, time.perf_counter() - started)
    return best


PROSE = "The new pier opens in the spring, the harbour board said on Tuesday. "


@pytest.mark.parametrize("shape", ["-", "- ", "_ ", "© ", "| ", "A ", "By "])
def test_a_long_line_costs_no_more_than_a_line_of_prose(shape):
    """A 400,000-character line of "-" took 3 minutes (the chrome pattern's ".* sharing options" was tried
    after every length of the leading punctuation): a line costs in proportion to its length, like prose
    (the reference, measured in the same run; a quadratic rule is hundreds of times slower here)."""
    size = 100_000
    line = document_from_bytes("page.txt", _page((shape * size)[:size]))
    prose = document_from_bytes("page.txt", _page((PROSE * size)[:size]))
    assert _seconds(lambda: clean_document(line)) < 20 * _seconds(lambda: clean_document(prose)) + 0.05


def test_a_line_of_data_is_dropped_and_the_story_kept():
    doc = clean_document(document_from_bytes("page.txt", _page("a" * 2_000_000)))
    assert "approved a night ferry" in doc.text and "aaaa" not in doc.text


def test_a_page_that_is_one_run_of_characters_is_no_article():
    with pytest.raises(Rejected, match="no article body found"):
        clean_document(document_from_bytes("page.txt", ("x" * 3_000_000).encode()))


def test_a_run_of_chinese_text_without_spaces_is_text():
    sentence = "港口委员会周二开会，批准了开往岛屿的夜间渡轮。"
    doc = clean_document(document_from_bytes("page.txt", ("夜间渡轮获批\n\n" + sentence * 100 + "\n").encode()))
    assert sentence in doc.text


def test_a_page_longer_than_any_news_page_is_refused_before_cleaning():
    with pytest.raises(Rejected, match="page too long to be a news article"):
        clean_document(document_from_bytes("page.txt", _page("word " * (MAX_PAGE_CHARS // 5))))


def test_a_document_over_the_time_limit_is_a_reject_with_the_reason():
    doc = document_from_bytes("page.txt", _page("The pier opens in spring. " * 2000))
    over = pytest.raises(Rejected, match="took longer than the time limit of 0 s .* in the clean stage")
    with over, time_limit("clean", 0):
        clean_document(doc)
    with time_limit("clean", 60):
        assert "night ferry" in clean_document(doc).text


def test_marking_every_line_a_sentence_start_is_linear_in_the_lines():
    """The entities stage marks line breaks as sentence starts; token by token, spaCy rescanned the whole
    document each time (50,000 lines took 282 s)."""
    nlp = spacy.blank("en")
    nlp.add_pipe("newsflow_boundaries")

    text = "\n".join(f"Line {i} - the pier." for i in range(20_000))
    doc = nlp(text[:200])
    sentences = [sentence.text.strip() for sentence in doc.sents if sentence.text.strip()]
    assert sentences[:4] == ["Line 0", "-", "the pier.", "Line 1"]
    # Against tokenising the same text, in the same run: marking costs a fraction of it when linear.
    assert _seconds(lambda: nlp(text)) < 10 * _seconds(lambda: nlp.make_doc(text))
