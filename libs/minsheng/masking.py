"""Masking of personal numbers: the one function events, logs and dead letters share.

Personal data may be kept in the appeals database, never anywhere else; a citizen types
numbers into any free text, so every text that leaves goes through `mask_personal`:

    mobile     13912345678, 139 1234 5678, 139-1234-5678, +86 / 0086 / (+86) / 86 before it
               -> 139****5678 (first 3 and last 4 kept, the form of `phone_masked`)
    landline   0436-1234567, (0436)1234567, 010 8765 4321, +86 436 1234567
               -> 0436-*****67 (area code and last 2 kept); without an area code only
               after a word that says it is a number (电话 8765432, 座机：2345678)
    resident   18-digit ID, last character may be X, 6 8 4 groups may be spaced; the old
               15-digit ID (6 area, YYMMDD, 3) -> 2208**********123X (first 4, last 4)
    bank card  16 to 19 digits passing the Luhn check, whole or in groups of four
               -> 6222 **** **** 1234 (first 4 and last 4 kept)

Digits are masked in place: separators, parentheses and country codes stay as typed, so
the text keeps its length and fits the same limits. A number counts only as a token of
its own: digits glued to more digits or to Latin letters are not one, so appeal ids
(BC20261201000042), UUIDs, hashes, dates, amounts and years are left alone. The one
exception is a Latin label glued to the number (`Tel13912345678`, `ID2208...`), which is
how such numbers get typed. Full-width digits (１３９…) are numbers too. Pure.
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
# them by - _ . (ids, hashes and UUIDs have runs like b143-1445-4169 or -0222415769),
# unless the letters are a label that says what follows (Tel13912345678)
_LABEL = r"(?<![A-Za-z])(?i:telephone|tele|tel|phone|mobile|mob|cell|fax|ph|idno|id)[.:#]?"
_START = rf"(?P<label>{_LABEL}|(?<![\dA-Za-z])(?<![\dA-Za-z][\-_.]))"
_END = r"(?![\dA-Za-z])(?![\-_.][\dA-Za-z])"
_X = "XxＸｘ"  # the check character of a resident ID may be X
_YYMMDD = r"\d{2}(?:[0０]\d|[1１][0-2０-２])(?:[0-2０-２]\d|[3３][01０１])"

_RESIDENT = re.compile(
    rf"{_START}(?P<number>\d{{6}}{_SEP}\d{{8}}{_SEP}\d{{3}}[\d{_X}]"
    rf"|\d{{6}}{_SEP}{_YYMMDD}{_SEP}\d{{3}}){_END}"
)
_CARD = re.compile(
    rf"{_START}(?P<number>\d{{16,19}}|\d{{4}}(?:{_SEP}\d{{4}}){{3}}(?:{_SEP}\d{{1,3}})?){_END}"
)
_MOBILE = re.compile(
    rf"{_START}(?P<kept>{_CC}?)(?P<number>[1１][3-9３-９]\d{_SEP}\d{{4}}{_SEP}\d{{4}}){_END}"
)
_LANDLINE = re.compile(
    rf"{_START}(?P<kept>[(（][0０]\d{{2,3}}[)）]{_SEP}|[0０]\d{{2,3}}{_SEP}"
    rf"|{_INTL}[(（]?[1-9１-９]\d{{1,2}}[)）]?{_SEP})(?P<number>{_LOCAL}){_END}"
)
# a local number without its area code is too like an amount or a count to take alone
_NUMBER_WORD = r"(?:电话|座机|固话|号码|致电|拨打|传真|(?i:tel|phone|fax))"
_LOCAL_ONLY = re.compile(
    rf"(?P<label>{_NUMBER_WORD}[:：]?{_SEP})(?P<number>[2-9２-９]\d{{2,3}}{_SEP}\d{{4}})"
    rf"{_END}(?![元万米年月日号个户人次%％])"
)
# (pattern, the fewest digits it matches, digits kept at the start and at the end of
# its `number` group); most text has too few digits for any, and needs no regex at all
_RULES = (
    (_RESIDENT, 15, 4, 4),
    (_CARD, 16, 4, 4),
    (_MOBILE, 11, 3, 4),
    (_LANDLINE, 10, 0, 2),  # 0, 2 digits of area, 7 local
    (_LOCAL_ONLY, 7, 0, 2),
)
_FEWEST = min(fewest for _, fewest, _, _ in _RULES)


def mask_personal(text: str) -> str:
    """`text` with every mobile, landline, resident ID and bank card number masked (see
    above)."""
    if len(text) < _FEWEST:
        return text  # too short to hold a number of any rule (most titles and names)
    digits = sum(map(str.isdigit, text))
    for pattern, fewest, head, tail in _RULES:
        if digits >= fewest:
            text = pattern.sub(partial(_masked_match, head=head, tail=tail), text)
    return text


def _masked_match(match: re.Match[str], head: int, tail: int) -> str:
    number = match["number"]
    if match.re is _CARD and not _luhn_valid(number):
        return match[0]  # an order or account number of some system, not a card
    kept = (match["label"] or "") + (match.groupdict().get("kept") or "")
    return kept + _hide_digits(number, head, tail)


def _luhn_valid(number: str) -> bool:
    digits = [int(ch) for ch in number if ch.isdigit()]
    odd = sum(digits[-1::-2])
    even = sum(sum(divmod(2 * d, 10)) for d in digits[-2::-2])
    return (odd + even) % 10 == 0


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
