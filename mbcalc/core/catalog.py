"""The shipped specs with their figures at alpha 1, for `mbcalc list`, read from an index.

Parsing and computing every shipped spec takes far longer than starting mbcalc, so the figures
ship in `archs/index.json`, one entry per spec with the CRC-32 of the file it was computed
from. An entry is used only while the file still has that digest; a spec without a matching
entry (edited, or added since the index was written) is computed, so the list is always the
specs' own. `python -m mbcalc.core.catalog` rewrites the index; a test checks that it is current.
"""

from __future__ import annotations

import json
from typing import NamedTuple

from mbcalc.kinds import Pair
from mbcalc.spec.zoo import (
    FAMILIES,
    OTHER_FAMILY,
    digest,
    family_of,
    index_path,
    load_shipped,
    shipped_names,
    shipped_texts,
)

SCHEMA = "mbcalc.zoo-index/1"


class Listed(NamedTuple):
    """One shipped spec as `mbcalc list` shows it."""

    name: str
    family: str
    description: str
    input_size: Pair
    mult_adds: int
    params: int


class _Entry(NamedTuple):
    """What the index keeps of one spec: its file's digest and its figures."""

    digest: str
    description: str
    input_size: Pair
    mult_adds: int
    params: int


def catalog() -> list[Listed]:
    """Every shipped spec, grouped by family (in `FAMILIES` order), cheapest first."""
    index = read_index()
    listed = []
    for name, text in shipped_texts().items():
        entry = index.get(name)
        if entry is None or entry.digest != digest(text):
            entry = computed(name, text)
        figures = (entry.description, entry.input_size, entry.mult_adds, entry.params)
        listed.append(Listed(name, family_of(name), *figures))
    order = {family: rank for rank, (_, family) in enumerate(FAMILIES)}
    order[OTHER_FAMILY] = len(FAMILIES)
    return sorted(listed, key=lambda row: (order[row.family], row.mult_adds, row.name))


def computed(name: str, text: bytes) -> _Entry:
    """The index entry of the shipped spec `name`, whose file holds `text`, computed."""
    from mbcalc.core.graph import build_graph
    from mbcalc.core.report import analyze

    spec = load_shipped(name)
    total = analyze(build_graph(spec)).total.cost
    return _Entry(digest(text), spec.description, spec.input_size, total.mult_adds, total.params)


def read_index() -> dict[str, _Entry]:
    """The shipped index's entries by spec name; none where it is missing or unreadable."""
    try:
        document = json.loads(index_path().read_text(encoding="utf-8"))
        if document.get("schema") != SCHEMA:
            return {}
        return {name: _entry(fields) for name, fields in document["specs"].items()}
    except (OSError, ValueError, TypeError, KeyError, AttributeError):
        return {}


def _entry(fields: dict[str, object]) -> _Entry:
    size = fields["input"]
    if not isinstance(size, list) or len(size) != 2:
        raise TypeError("not a size")
    height, width = (_count(side) for side in size)
    return _Entry(
        _text(fields["crc32"]),
        _text(fields["description"]),
        (height, width),
        _count(fields["mult_adds"]),
        _count(fields["params"]),
    )


def _count(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError("not a count")
    return value


def _text(value: object) -> str:
    if not isinstance(value, str):
        raise TypeError("not text")
    return value


def index_text() -> str:
    """The index of the shipped specs as they are now: one line per spec, sorted by name."""
    lines = []
    for name, text in shipped_texts().items():
        entry = computed(name, text)
        fields = {
            "crc32": entry.digest,
            "description": entry.description,
            "input": list(entry.input_size),
            "mult_adds": entry.mult_adds,
            "params": entry.params,
        }
        lines.append(f"  {json.dumps(name)}: {json.dumps(fields, ensure_ascii=False)}")
    specs = ",\n".join(lines)
    return f'{{\n "schema": "{SCHEMA}",\n "specs": {{\n{specs}\n }}\n}}\n'


def main() -> None:
    """Rewrite the shipped index from the specs beside it."""
    path = index_path()
    path.write_text(index_text(), encoding="utf-8")
    print(f"wrote {path} ({len(shipped_names())} specs)")


if __name__ == "__main__":
    main()
