"""Input addresses without their secrets: what newsflow stores and logs of a URI.

A file can be handed to newsflow by a signed URL (`?X-Amz-Signature=...`, `?token=...`, an Azure SAS) or
through a store whose key is written in the address. The tables, the index, the manifest, the run
record and the logs keep the address without those parts (the file is opened with the whole address,
which stays in memory). Credentials in the address itself (`user:password@`, `KEY@`) are refused on the
command line instead (pipelines/cli.py): they belong in the store's own configuration.
"""
from __future__ import annotations

import re
import urllib.parse

# Query parameters that authorise a request rather than name a file (S3, GCS, Azure SAS, CloudFront, APIs).
_SECRET_PARAMETER = re.compile(
    r"(?i)^(?:x-amz-[\w-]+|x-goog-[\w-]+|signature|sig|token|access_token|id_token|auth|authorization|key|"
    r"api[-_]?key|password|passwd|pwd|secret|client_secret|credential|policy|key-pair-id|expires|"
    r"sv|se|sp|sr|spr|st|si|skoid|sktid|skt|ske|sks|skv)$"
)
_SECRET_IN_TEXT = re.compile(
    r"(?i)(?<=[?&])((?:x-amz-[\w-]+|x-goog-[\w-]+|signature|sig|token|access_token|key|api[-_]?key|password|"
    r"secret|credential|policy|sv|se|sp|sr|spr|st|si)=)[^&\s'\"]+|(?<=://)[^/\s@'\"]+@"
)


def user_info(uri: str) -> str | None:
    """The user part (`user:password@`, `KEY@`) of any URL in a chained fsspec address, or None."""
    for part in uri.split("::"):
        try:
            split = urllib.parse.urlsplit(part)
        except ValueError:
            continue
        if split.scheme not in ("", "file") and "@" in split.netloc:
            return split.netloc.rsplit("@", 1)[0]
    return None


def public_uri(uri: str) -> str:
    """`uri` without the query parameters that authorise access, in every part of a chained address."""
    if "?" not in uri or uri.startswith("file://"):  # a local name holding "?" is a name, not a query
        return uri
    return "::".join(_without_secret_parameters(part) for part in uri.split("::"))


def _without_secret_parameters(part: str) -> str:
    try:
        split = urllib.parse.urlsplit(part)
    except ValueError:
        return part
    if not split.query or split.scheme in ("", "file"):
        return part
    kept = [(name, value) for name, value in urllib.parse.parse_qsl(split.query, keep_blank_values=True)
            if not _SECRET_PARAMETER.match(name)]
    return urllib.parse.urlunsplit(split._replace(query=urllib.parse.urlencode(kept)))


def redact_text(text: str) -> str:
    """Free text (an error message) with secret query values and URL user parts replaced by '…'."""
    return _SECRET_IN_TEXT.sub(lambda match: f"{match[1]}…" if match[1] else "…@", text)
