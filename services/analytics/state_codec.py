"""A state as a few dozen bytes, the same in memory and on the changelog, so that millions
of them fit in a worker and a recovering worker stores what it reads without decoding it.

A state decoded from JSON is a dict of about fifteen fields, mostly label strings, flags
and tallies (lists of label lists): some 4.7 KB of Python objects for an appeal, whose
JSON is some 770 bytes. Yet only its numbers (sequence, instants, partition) differ from
one appeal to the next; the rest, its *shape*, comes from small sets (districts,
categories, units, months, outcomes). So a state is written as msgpack of
`[shape digest, number, number, ...]`, some 35 bytes for an appeal, where the shape (the
names of the number fields, and every other field with its value) is kept once per
process, by its digest (64 bits of BLAKE2b of its canonical JSON).

The digest does not depend on the process, so the compact form is what goes to the
changelog too: each shape is written there once per partition, as its own record (key
`#shape/<digest in hex>`, value its canonical JSON, a JSON array) before the first state
that uses it (`Codec.encode_for`), and a compaction keeps it, its key never being written
again. A worker reading a partition learns its shapes (`learn`) and keeps the states'
bytes as they are. States written before this form (JSON objects) still decode
(`decode` tells them by their first byte); they are rewritten compactly when next changed.

The shapes only grow, by the distinct combinations of labels, flags and tallies seen:
bounded by the labels' cardinality (as the metrics' series are), not by the number of
states. A table whose states held a string of their own (a name, a free text) would give
a shape per state: none does.
"""

from __future__ import annotations

from hashlib import blake2b
from typing import Any

import msgspec

from analytics.counting import State

SHAPE_PREFIX = "#shape/"  # aggregate ids never start with "#"
INT64 = 1 << 63
_json_encode, _json_decode = msgspec.json.Encoder().encode, msgspec.json.decode
_pack, _unpack = msgspec.msgpack.Encoder().encode, msgspec.msgpack.Decoder().decode


class UnknownShape(KeyError):
    """A compact state whose shape this process has not learnt: its changelog partition
    lost the shape record (it cannot, unless someone deleted it), or it was read out of
    order."""


class Shape:
    """What states of one shape share: the number fields' names, and the other fields."""

    __slots__ = ("canonical", "digest", "fields", "names")

    def __init__(self, digest: int, canonical: bytes) -> None:
        names, fields = _json_decode(canonical)
        self.digest, self.canonical = digest, canonical
        self.names: tuple[str, ...] = tuple(names)
        self.fields: State = fields


SHAPES: dict[int, Shape] = {}  # digest -> shape, for the whole process
_DIGESTS: dict[bytes, int] = {}  # canonical JSON -> digest


def _digest(canonical: bytes) -> int:
    return int.from_bytes(blake2b(canonical, digest_size=8).digest(), "big")


def learn(canonical: bytes) -> int:
    """A shape (its canonical JSON, a shape record's value); returns its digest."""
    digest = _DIGESTS.get(canonical)
    if digest is None:
        digest = _digest(canonical)
        known = SHAPES.get(digest)
        if known is not None and known.canonical != canonical:  # 2^-64 a pair of shapes
            raise ValueError(f"two shapes of digest {digest:016x}")
        SHAPES[digest] = Shape(digest, canonical)
        _DIGESTS[canonical] = digest
    return digest


def shape_key(digest: int) -> str:
    """The changelog key of a shape record."""
    return f"{SHAPE_PREFIX}{digest:016x}"


def is_shape_key(key: Any) -> bool:
    return isinstance(key, str) and key.startswith(SHAPE_PREFIX)


def is_shape_value(data: bytes) -> bool:
    """A shape record's value (canonical JSON: an array), as opposed to a state's."""
    return data[:1] == b"["


def split(state: State) -> tuple[int, list[Any]]:
    """A state's shape digest (the shape learnt) and its numbers."""
    names: list[str] = []
    numbers: list[Any] = []
    fields: State = {}
    for name, value in state.items():
        kind = type(value)
        if kind is float or (kind is int and -INT64 <= value < INT64):
            names.append(name)
            numbers.append(value)
        else:  # str, bool, None, lists, dicts, and ints too large for msgpack
            fields[name] = value
    return learn(_json_encode((names, fields))), numbers


def encode(state: State) -> bytes:
    digest, numbers = split(state)
    return _pack([digest, *numbers])


def decode_shaped(data: bytes) -> tuple[int | None, State]:
    """A state and its shape's digest (None: a state written as JSON, before shapes)."""
    if data[:1] == b"{":
        return None, _json_decode(data)
    digest, *numbers = _unpack(data)
    shape = SHAPES.get(digest)
    if shape is None:
        raise UnknownShape(f"{digest:016x}")
    state = dict(shape.fields)
    state.update(zip(shape.names, numbers, strict=True))
    return digest, state


def decode(data: bytes) -> State:
    return decode_shaped(data)[1]


class Codec:
    """Encodes states to short bytes and back; `decode(encode(s)) == s` for any state
    that JSON holds (a dict of str keys and JSON values), though not in its field order.

    Decoded states share the lists and dicts of their shape: states are never changed in
    place (`counting.advance` copies, `record` builds new lists)."""

    encode = staticmethod(encode)
    decode = staticmethod(decode)
    decode_shaped = staticmethod(decode_shaped)

    @staticmethod
    def encode_for(state: State, written: set[int]) -> tuple[bytes, tuple[bytes, bytes] | None]:
        """A state's changelog value, and the record (key, value) of its shape if `written`
        (the shapes already on its partition) lacks it; `written` then has it."""
        digest, numbers = split(state)
        value = _pack([digest, *numbers])
        if digest in written:
            return value, None
        written.add(digest)
        return value, (_json_encode(shape_key(digest)), SHAPES[digest].canonical)
