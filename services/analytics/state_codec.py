"""A state as a few dozen bytes in memory, so that millions of them fit in a worker.

A state decoded from JSON is a dict of about fifteen fields whose values are mostly
label strings and tallies (lists of label lists): some 4.7 KB of Python objects for an
appeal, whose JSON is some 770 bytes. Yet its strings come from small sets (districts,
categories, units, months, outcomes) and so do its tally entries. So a state is held as
msgpack of a flat list of (code, value) pairs, where the code names the field (an index
into this process's table of field names) and how its value is written: as it is, as the
index of an interned string, or as the indexes of interned label lists. An appeal's
state takes about 60 bytes that way.

The tables of interned names only grow, by the distinct labels seen: they are bounded by
the labels' cardinality (the same bound the metrics' series have), not by the number of
states. They belong to the process: what goes to Kafka stays JSON (changelog.py).
"""

from __future__ import annotations

from typing import Any

import msgspec

from analytics.counting import State

AS_IS, STRING, LABELS = 0, 1, 2  # how a field's value is written (the code's low bits)
KIND_BITS = 2


class Interned:
    """Objects by small index, each kept once."""

    def __init__(self) -> None:
        self.objects: list[Any] = []
        self.index: dict[Any, int] = {}

    def of(self, thing: Any) -> int:
        found = self.index.get(thing)
        if found is None:
            found = self.index[thing] = len(self.objects)
            self.objects.append(thing)
        return found


class Codec:
    """Encodes states to short bytes and back; `decode(encode(s)) == s` for any state
    that JSON holds (a dict of str keys and JSON values).

    Decoded states share their label lists (one list object per distinct entry): states
    are never changed in place (`counting.advance` copies, `record` builds new lists)."""

    def __init__(self) -> None:
        self.fields = Interned()
        self.values = Interned()  # strings, and label lists (by their tuple)
        self.shared: list[Any] = []  # what decoding gives for each value: str, or list
        self._encoder = msgspec.msgpack.Encoder()
        self._decoder = msgspec.msgpack.Decoder()

    def _value(self, thing: Any, shared: Any) -> int:
        found = self.values.index.get(thing)
        if found is None:
            found = self.values.of(thing)
            self.shared.append(shared)
        return found

    def encode(self, state: State) -> bytes:
        flat: list[Any] = []
        field, value, known = self.fields.of, self._value, self.values.index.get
        for name, v in state.items():
            code = field(name) << KIND_BITS
            if type(v) is str:
                found = known(v)
                flat += (code | STRING, value(v, v) if found is None else found)
            elif type(v) is list and (labels := self._labels(v)) is not None:
                flat += (code | LABELS, labels)
            else:
                flat += (code, v)
        return self._encoder.encode(flat)

    def _labels(self, tally: list[Any]) -> list[int] | None:
        """The indexes of a tally's entries, or None if it is no list of label lists."""
        ids, known = [], self.values.index.get
        try:
            for entry in tally:
                if type(entry) is not list:
                    return None
                labels = tuple(entry)
                found = known(labels)
                ids.append(self._value(labels, entry) if found is None else found)
        except TypeError:  # an entry holds something unhashable: kept as it is
            return None
        return ids

    def decode(self, data: bytes) -> State:
        flat = iter(self._decoder.decode(data))
        names, shared = self.fields.objects, self.shared
        state: State = {}
        for code, value in zip(flat, flat, strict=True):
            kind = code & 3
            if kind == STRING:
                value = shared[value]
            elif kind == LABELS:
                value = [shared[entry] for entry in value]
            state[names[code >> KIND_BITS]] = value
        return state
