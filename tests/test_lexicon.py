"""Shared vocabulary: month names in the dev data's languages, headline tickers."""
import re

from transforms.lexicon import MONTH_PATTERN, MONTHS, is_ticker


def test_month_names_in_every_supported_language():
    for name, month in [("march", 3), ("märz", 3), ("mars", 3), ("marzo", 3), ("março", 3), ("марта", 3),
                        ("dez", 12), ("déc", 12), ("okt", 10)]:
        assert MONTHS[name] == month
    assert re.fullmatch(MONTH_PATTERN, "june") and re.fullmatch(MONTH_PATTERN, "sept.")


def test_tickers_and_bylines():
    assert is_ticker("Harbor reopens // Storm warning lifted // Council votes")
    assert is_ticker("Markets | Sport | Weather | Culture | Opinion | Video | Podcasts and more")
    byline = "By Jane Roe, harbour affairs correspondent | Staff writer | 3 May 2021 | 2 min read"
    assert is_ticker(byline)  # chrome for the cleaner...
    assert not is_ticker(byline, min_chars=161, min_separators=4)  # ...but the dates stage reads it
    assert not is_ticker("The council voted 7 | 2 to approve the plan on Tuesday.")
