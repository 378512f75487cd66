"""Language identification and stopword lists for the clean stage.

`detect_language` wraps py3langid (its model ships inside the wheel: nothing is downloaded) and loads the
model once, lazily, on first use: importing this module stays cheap, and each Beam worker pays the load
(~0.5 s) once. `stopwords_for` returns jusText's stopword list for a language code; the boilerplate
classifier uses stopword density as its main "this is running prose" signal.
"""
from __future__ import annotations

import functools
import re

# Below this many letters the identifier is guessing (menus, captions, a headline alone): say "unknown".
MIN_LETTERS_FOR_DETECTION = 20
# Under this probability the text is mixed or too odd to name one language.
MIN_CONFIDENCE = 0.5
# Identifying a language needs a few sentences, not a whole page; bounds the cost on huge pages.
MAX_CHARS_FOR_DETECTION = 3000

# ISO 639-1 code -> jusText stoplist name (every language both tools know).
JUSTEXT_STOPLISTS = {
    "af": "Afrikaans", "an": "Aragonese", "ar": "Arabic", "az": "Azerbaijani", "be": "Belarusian",
    "bg": "Bulgarian", "bn": "Bengali", "br": "Breton", "bs": "Bosnian", "ca": "Catalan", "cs": "Czech",
    "cy": "Welsh", "da": "Danish", "de": "German", "el": "Greek", "en": "English", "eo": "Esperanto",
    "es": "Spanish", "et": "Estonian", "eu": "Basque", "fa": "Persian", "fi": "Finnish", "fr": "French",
    "fy": "West_Frisian", "ga": "Irish", "gl": "Galician", "he": "Hebrew", "hi": "Hindi", "hr": "Croatian",
    "ht": "Haitian", "hu": "Hungarian", "hy": "Armenian", "id": "Indonesian", "is": "Icelandic",
    "it": "Italian", "jv": "Javanese", "ka": "Georgian", "kk": "Kazakh", "kn": "Kannada", "ko": "Korean",
    "ku": "Kurdish", "ky": "Kyrgyz", "la": "Latin", "lb": "Luxembourgish", "lt": "Lithuanian",
    "lv": "Latvian", "mk": "Macedonian", "ml": "Malayalam", "mr": "Marathi", "ms": "Malay", "mt": "Maltese",
    "nb": "Norwegian_Bokmal", "ne": "Nepali", "nl": "Dutch", "nn": "Norwegian_Nynorsk",
    "no": "Norwegian_Bokmal", "oc": "Occitan", "pl": "Polish", "pt": "Portuguese", "qu": "Quechua",
    "ro": "Romanian", "ru": "Russian", "sk": "Slovak", "sl": "Slovenian", "sq": "Albanian", "sr": "Serbian",
    "sv": "Swedish", "sw": "Swahili", "ta": "Tamil", "te": "Telugu", "tl": "Tagalog", "tr": "Turkish",
    "uk": "Ukrainian", "ur": "Urdu", "vi": "Vietnamese", "wa": "Walloon", "yo": "Yoruba",
}

# py3langid also names varieties without an ISO 639-1 code: fold them into their macrolanguage.
MACROLANGUAGES = {"arz": "ar", "ary": "ar", "yue": "zh", "wuu": "zh", "gug": "gn", "uzs": "uz"}

_LETTER = re.compile(r"[^\W\d_]")


@functools.lru_cache(maxsize=1)
def _identifier():
    # Imported here so that importing the pipeline does not load numpy models it may never use.
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    return LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)


def detect_language(text: str) -> str | None:
    """ISO 639-1 code of `text`'s language, or None when the text is too short or too ambiguous."""
    sample = text[:MAX_CHARS_FOR_DETECTION]
    if len(_LETTER.findall(sample)) < MIN_LETTERS_FOR_DETECTION:
        return None
    language, probability = _identifier().classify(sample)
    language = MACROLANGUAGES.get(language, language)
    # "zxx" (no linguistic content) and codes that have no two-letter form are not an answer.
    if probability < MIN_CONFIDENCE or len(language) != 2:
        return None
    return language


def stoplist_name(language: str | None) -> str | None:
    """jusText's name for the stoplist of an ISO 639-1 code, or None if jusText has none."""
    return JUSTEXT_STOPLISTS.get(language or "")


@functools.cache
def stopwords_for(language: str | None) -> frozenset[str]:
    """Lower-cased stopwords of `language` (ISO 639-1); empty when unknown."""
    name = stoplist_name(language)
    if name is None:
        return frozenset()
    import justext  # a trafilatura dependency; imported lazily like the language model

    return frozenset(word.lower() for word in justext.get_stoplist(name))
