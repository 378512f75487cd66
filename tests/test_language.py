"""Language identification and stoplists for the clean stage (fictional sentences)."""
import pytest

from transforms.language import JUSTEXT_STOPLISTS, detect_language, stoplist_name, stopwords_for

SENTENCES = {
    "en": "The council said on Tuesday that the new bridge over the river would open to traffic in May.",
    "de": "Der Stadtrat teilte am Dienstag mit, dass die neue Brücke über den Fluss im Mai eröffnet wird.",
    "fr": "Le conseil municipal a annoncé mardi que le nouveau pont sur la rivière ouvrira en mai prochain.",
    "es": "El ayuntamiento anunció el martes que el nuevo puente sobre el río se abrirá al tráfico en mayo.",
    "pt": "A câmara municipal anunciou na terça-feira que a nova ponte sobre o rio será aberta em maio.",
    "it": "Il consiglio comunale ha annunciato martedì che il nuovo ponte sul fiume aprirà a maggio.",
    "ru": "Городской совет сообщил во вторник, что новый мост через реку откроют для движения в мае.",
    "nl": "De gemeenteraad heeft dinsdag laten weten dat de nieuwe brug over de rivier in mei opengaat.",
}


@pytest.mark.parametrize("language", sorted(SENTENCES))
def test_detects_the_language_of_a_sentence(language):
    assert detect_language(SENTENCES[language]) == language


@pytest.mark.parametrize("text", ["", "   ", "Home", "12:45 | 2024-03-05", "Share"])
def test_too_short_or_letterless_text_has_no_language(text):
    assert detect_language(text) is None


def test_detection_is_bounded_on_huge_text():
    assert detect_language(SENTENCES["de"] * 5000) == "de"


@pytest.mark.parametrize("language", sorted(SENTENCES))
def test_every_core_language_has_a_stoplist(language):
    assert stoplist_name(language) is not None
    words = stopwords_for(language)
    assert len(words) > 100
    assert all(word == word.lower() for word in words)


def test_stoplist_names_follow_justext():
    assert stoplist_name("en") == "English"
    assert stoplist_name("de") == "German"
    assert stoplist_name("pt") == "Portuguese"
    assert JUSTEXT_STOPLISTS["nl"] == "Dutch"


def test_unknown_language_has_no_stoplist():
    assert stoplist_name(None) is None
    assert stoplist_name("xx") is None
    assert stopwords_for("xx") == frozenset()
    assert stopwords_for(None) == frozenset()


def test_common_words_are_stopwords():
    assert {"the", "and", "of"} <= stopwords_for("en")
    assert {"der", "und", "nicht"} <= stopwords_for("de")
