"""Signed one-click unsubscribe links, one per subscriber (list mode).

A link is the configured endpoint (`email.list_unsubscribe_url`) plus two query parameters:

    https://example.org/unsubscribe?u=alice%40example.com&s=<signature>

where the signature is HMAC-SHA256, keyed with the secret from REPORTGEN_UNSUBSCRIBE_SECRET,
over the list id (`email.list_id`) and the address in its canonical form (domain lower-cased),
base64url without padding (43 characters). Signing the list id too means a link for one
list cannot unsubscribe anyone from another list sharing the secret.

The site's endpoint checks a request with `verify_unsubscribe(address, sig, secret, list_id)`
(constant-time) and must accept a POST with the body `List-Unsubscribe=One-Click` (RFC 8058:
mail providers call it without a human, and must never need to follow a GET).

Stdlib only, no I/O: an endpoint can import this module on its own.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

SECRET_ENV = "REPORTGEN_UNSUBSCRIBE_SECRET"
MIN_SECRET_LEN = 16  # shorter secrets are guessable offline from one signed link
DEFAULT_LIST_ID = "daily-brief"


def canonical(address: str) -> str:
    """`address` as the list keys it: trimmed, domain lower-cased (the local part is the
    mailbox owner's and may be case-sensitive, RFC 5321 §2.4)."""
    local, at, domain = address.strip().rpartition("@")
    return f"{local}@{domain.lower()}" if at else address.strip()


def sign(address: str, secret: str, list_id: str = DEFAULT_LIST_ID) -> str:
    """The signature of (`list_id`, `address`) under `secret`: base64url, no padding."""
    message = f"{list_id}\n{canonical(address)}".encode()
    digest = hmac.new(secret.encode(), message, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def verify_unsubscribe(address: str, sig: str, secret: str,
                       list_id: str = DEFAULT_LIST_ID) -> bool:
    """True when `sig` (the link's `s=`) was made for `address` (its `u=`) on `list_id`
    with `secret`. Compared in constant time, so timing does not reveal a valid prefix."""
    expected = sign(address, secret, list_id)
    return hmac.compare_digest(expected.encode("ascii"), sig.encode("ascii", "replace"))


def unsubscribe_link(endpoint: str, address: str, secret: str,
                     list_id: str = DEFAULT_LIST_ID) -> str:
    """`endpoint` with `u=<address>&s=<signature>` added to whatever query it already has."""
    parts = urlsplit(endpoint)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True)
             if k not in ("u", "s")]
    query += [("u", canonical(address)), ("s", sign(address, secret, list_id))]
    return urlunsplit(parts._replace(query=urlencode(query)))
