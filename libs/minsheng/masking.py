"""Masking of personal numbers: the one function events, logs and dead letters share.

Personal data may be kept in the appeals database, never anywhere else; a citizen types
numbers into any free text, so every text that leaves goes through `mask_personal`:

    mobile     13912345678, 139 1234 5678, 139-1234-5678, +86 / 0086 / (+86) / 86 before it
               -> 139****5678 (first 3 and last 4 kept, the form of `phone_masked`)
    landline   0436-1234567, (0436)1234567, 010 8765 4321, +86 436 1234567
               -> 0436-*****67 (area code and last 2 kept)
    resident   18-digit ID, last character may be X, 6 8 4 groups may be spaced
               -> 2208**********123X (first 4 and last 4 kept)

Digits are masked in place: separators, parentheses and country codes stay as typed, so
the text keeps its length and fits the same limits. A number counts only as a token of
its own: digits glued to more digits or to Latin letters are not one, so appeal ids
(BC20261201000042), UUIDs, hashes, dates, amounts and years are left alone (and so is a
number written glued to Latin letters, `Tel13912345678`: Chinese text is what we mask).
Full-width digits (１３９…) are numbers too. Pure.
"""

from __future__ import annotations

import json
import re
from functools import partial
from typing import Any

_SEP = r"[ \u00a0\u3000\-\u2010-\u2015\u2212\uff0d]?"  # one space or dash, as typed
_CC = rf"(?:[(（]?(?:[+＋]|00|００)?[8８][6６][)）]?{_SEP})"  # +86, 0086, (+86), 86
_INTL = rf"(?:(?:[+＋]|00|００)[8８][6６]{_SEP})"  # a landline's country code: + or 00
_LOCAL = rf"[1-9１-９]\d{{2,3}}{_SEP}\d{{4}}"  # 7 or 8 digits, perhaps 4-4 or 3-4

# A number is a token of its own: not glued to Latin letters or digits, nor joined to
# them by - _ . (ids, hashes and UUIDs have runs like b143-1445-4169 or -0222415769)
_START = r"(?<![\dA-Za-z])(?<![\dA-Za-z][\-_.])"
_END = r"(?![\dA-Za-z])(?![\-_.][\dA-Za-z])"
_X = "XxＸｘ"  # the check character of a resident ID may be X

_RESIDENT = re.compile(rf"{_START}(?P<number>\d{{6}}{_SEP}\d{{8}}{_SEP}\d{{3}}[\d{_X}]){_END}")
_MOBILE = re.compile(
    rf"{_START}(?P<kept>{_CC}?)(?P<number>[1１][3-9３-９]\d{_SEP}\d{{4}}{_SEP}\d{{4}}){_END}"
)
_LANDLINE = re.compile(
    rf"{_START}(?P<kept>[(（][0０]\d{{2,3}}[)）]{_SEP}|[0０]\d{{2,3}}{_SEP}"
    rf"|{_INTL}[(（]?[1-9１-９]\d{{1,2}}[)）]?{_SEP})(?P<number>{_LOCAL}){_END}"
)
_FEWEST_DIGITS = 10  # of any of them: a landline, 0 and 2 digits of area, 7 local
# (pattern, digits kept at the start, digits kept at the end of its `number` group)
_RULES = ((_RESIDENT, 4, 4), (_MOBILE, 3, 4), (_LANDLINE, 0, 2))


def mask_personal(text: str) -> str:
    """`text` with every mobile, landline and resident ID number masked (see above)."""
    if sum(map(str.isdigit, text)) < _FEWEST_DIGITS:  # most text: no regex needed
        return text
    for pattern, head, tail in _RULES:
        text = pattern.sub(partial(_masked_match, head=head, tail=tail), text)
    return text


def _masked_match(match: re.Match[str], head: int, tail: int) -> str:
    kept = match.groupdict().get("kept") or ""
    return kept + _hide_digits(match["number"], head, tail)


def _hide_digits(number: str, head: int, tail: int) -> str:
    """Each digit of `number` but the first `head` and the last `tail` as `*`; the rest
    (separators, an ID's final X) as it is."""
    total = sum(ch.isdigit() or ch in _X for ch in number)
    out, seen = [], 0
    for ch in number:
        if ch.isdigit() or ch in _X:
            seen += 1
            out.append(ch if seen <= head or seen > total - tail else "*")
        else:
            out.append(ch)
    return "".join(out)


def mask_phone(phone: str | None) -> str | None:
    """A phone as given (`+86 138 1234 5678`) -> `138****5678`, the structured field's
    form; None when there is no number to mask."""
    if not phone:
        return None
    digits = "".join(ch for ch in phone if ch.isdigit())
    if len(digits) == 13 and digits.startswith("86"):
        digits = digits[2:]  # +86 country code
    if len(digits) < 7:
        return None
    return f"{digits[:3]}****{digits[-4:]}"


def mask_bytes(raw: bytes) -> bytes:
    """A message's bytes with personal numbers masked and its shape kept, for what must
    stay diagnosable (dead letters): a JSON document has its strings (keys too) masked,
    and a number that is a personal number becomes its masked string; anything else is
    masked as text, bytes that are not UTF-8 kept as they are. Unchanged input comes back
    byte for byte."""
    try:
        doc = json.loads(raw)
    except (ValueError, RecursionError):  # not JSON, not UTF-8, or too deep
        return mask_text_bytes(raw)
    masked_doc = _mask_json(doc)
    return raw if masked_doc == doc else json.dumps(masked_doc, ensure_ascii=False).encode()


def mask_text_bytes(raw: bytes) -> bytes:
    """Bytes masked as UTF-8 text (a key, a header); what is not UTF-8 is kept as it is."""
    text = raw.decode("utf-8", errors="surrogateescape")
    masked = mask_personal(text)
    return raw if masked == text else masked.encode("utf-8", errors="surrogateescape")


def _mask_json(doc: Any) -> Any:
    if isinstance(doc, str):
        return mask_personal(doc)
    if isinstance(doc, dict):
        return {mask_personal(k): _mask_json(v) for k, v in doc.items()}
    if isinstance(doc, list):
        return [_mask_json(v) for v in doc]
    if isinstance(doc, int | float) and not isinstance(doc, bool):
        masked = mask_personal(str(doc))
        return doc if masked == str(doc) else masked
    return doc
