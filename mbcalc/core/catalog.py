"""The shipped specs with their figures at alpha 1, for `mbcalc list`, read from an index.

Parsing and computing every shipped spec takes far longer than starting mbcalc, so the figures
ship in `archs/index.json`, one entry per spec with the CRC-32 of the file it was computed
from. An entry is used only while the file still has that digest; a spec without a matching
entry (edited, or added since the index was written) is computed, so the list is always the
specs' own. `python -m mbcalc.core.catalog` rewrites the index; a test checks that it is current.
"""

from __future__ import annotations

import json
import re
from fractions import Fraction
from typing import NamedTuple

from mbcalc.kinds import Pair
from mbcalc.spec.defaults import NO_DEFAULTS, SpecDefaults
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
    """One shipped spec as `mbcalc list` shows it: its figures at its own defaults (alpha 1,
    depth 1 and its input size unless it gives others), `input_size` the resolution they are
    at."""

    name: str
    family: str
    description: str
    input_size: Pair
    mult_adds: int
    params: int
    defaults: SpecDefaults = NO_DEFAULTS


class _Entry(NamedTuple):
    """What the index keeps of one spec: its file's digest and its figures."""

    digest: str
    description: str
    input_size: Pair
    mult_adds: int
    params: int
    defaults: SpecDefaults


def catalog() -> list[Listed]:
    """Every shipped spec, grouped by family (in `FAMILIES` order), cheapest first."""
    index = read_index()
    texts = shipped_texts()
    listed = []
    for name in texts:
        entry = index.get(name)
        if entry is None or entry.digest != chain_digest(name, texts):
            entry = computed(name, texts)
        figures = (entry.description, entry.input_size, entry.mult_adds, entry.params)
        listed.append(Listed(name, family_of(name), *figures, entry.defaults))
    order = {family: rank for rank, (_, family) in enumerate(FAMILIES)}
    order[OTHER_FAMILY] = len(FAMILIES)
    return sorted(listed, key=lambda row: (order[row.family], row.mult_adds, row.name))


def chain_digest(name: str, texts: dict[str, bytes]) -> str:
    """The digest of shipped spec `name`'s file and, where it takes a shipped `base:`, of its
    base's files too: an entry is stale when any file its figures come from has changed."""
    chain = [texts[name]]
    while (
        (base := _BASE.search(chain[-1])) and base[1].decode() in texts and len(chain) <= len(texts)
    ):
        chain.append(texts[base[1].decode()])
    return digest(b"".join(chain))


_BASE = re.compile(rb"^base:[ \t]*([A-Za-z0-9_]+)[ \t]*(?:#.*)?$", re.MULTILINE)
"""A top-level `base:` naming a shipped spec."""


def computed(name: str, texts: dict[str, bytes]) -> _Entry:
    """The index entry of the shipped spec `name` (`texts`: every shipped spec's bytes)."""
    from mbcalc.core.graph import build_graph
    from mbcalc.core.report import analyze

    spec = load_shipped(name)
    graph = build_graph(spec)
    total = analyze(graph).total.cost
    height, width = graph.resolution
    figures = ((height, width), total.mult_adds, total.params, spec.defaults)
    return _Entry(chain_digest(name, texts), spec.description, *figures)


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
        _defaults(fields.get("defaults", {})),
    )


def _defaults(fields: object) -> SpecDefaults:
    """A spec's `defaults` as the index keeps them: multipliers as "n/d" text, `res` a height
    or [height, width]."""
    if not isinstance(fields, dict) or not set(fields) <= {"alpha", "depth", "res"}:
        raise TypeError("not defaults")
    alpha, depth = (
        None if key not in fields else Fraction(_text(fields[key])) for key in ("alpha", "depth")
    )
    res = fields.get("res")
    if isinstance(res, list) and len(res) == 2:
        return SpecDefaults(alpha=alpha, depth=depth, res=(_count(res[0]), _count(res[1])))
    return SpecDefaults(alpha=alpha, depth=depth, res=None if res is None else _count(res))


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
    texts = shipped_texts()
    for name in texts:
        entry = computed(name, texts)
        fields: dict[str, object] = {
            "crc32": entry.digest,
            "description": entry.description,
            "input": list(entry.input_size),
            "mult_adds": entry.mult_adds,
            "params": entry.params,
        }
        if entry.defaults.items():
            fields["defaults"] = {
                key: str(value) if isinstance(value, Fraction) else value
                for key, value in entry.defaults.items()
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
