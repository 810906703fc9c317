"""Write `docs/zoo.md`: the specs that ship with mbcalc, one table per family, with the figures
`mbcalc list` shows, exact. `--check` writes nothing and exits 1 when the page is not what
mbcalc's catalog gives now.

    python scripts/zoo_table.py [--check]
"""

from __future__ import annotations

import sys
from itertools import groupby
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mbcalc.core.catalog import Listed

# mbcalc, and the tests' reader of Markdown for GitHub's anchors, are imported by the functions
# that use them: run as a file, the script puts the repository's root on the path first.

ROOT = Path(__file__).resolve().parents[1]
PAGE = ROOT / "docs" / "zoo.md"

HEADER = """\
# The shipped specs

Every spec that ships with mbcalc, by family, cheapest first: what `mbcalc list` shows, with
the counts exact. A spec is named by its name on the command line (`mbcalc table
mobilenet_v2`); `mbcalc show NAME` prints its YAML, the file linked here. The figures are at
the spec's own input size, alpha 1 and depth 1, unless the spec scales itself (`scaled`: its
own `defaults:`). This page is generated: `python scripts/zoo_table.py` rewrites it, and the
tests fail when it is stale.
"""

COLUMNS = ("name", "description", "input", "scaled", "mult-adds", "params")
RIGHT = {"input", "mult-adds", "params"}


def zoo_text() -> str:
    """The whole page."""
    from mbcalc.core.catalog import catalog
    from tests.helpers.docs import slug

    families = [(family, list(specs)) for family, specs in groupby(catalog(), _family)]
    contents = "".join(
        f"- [{family}](#{slug(family)}): {len(specs)}\n" for family, specs in families
    )
    sections = "".join(_section(family, specs) for family, specs in families)
    return f"{HEADER}\n{contents}{sections}"


def _family(spec: Listed) -> str:
    return spec.family


def _section(family: str, specs: list[Listed]) -> str:
    from mbcalc.views.escape import for_markdown

    head = "| " + " | ".join(COLUMNS) + " |\n"
    rule = "|" + "|".join("---:" if c in RIGHT else "---" for c in COLUMNS) + "|\n"
    return f"\n## {for_markdown(family)}\n\n{head}{rule}" + "".join(map(_row, specs))


def _row(spec: Listed) -> str:
    from mbcalc.views.escape import for_markdown, for_markdown_code
    from mbcalc.views.formats import defaults_text, dims, exact

    cells = (
        f"[{for_markdown_code(spec.name)}](../archs/{spec.name}.yaml)",
        for_markdown(spec.description),
        dims(spec.input_size),
        defaults_text(spec.defaults.multipliers()),
        exact(spec.mult_adds),
        exact(spec.params),
    )
    return "| " + " | ".join(cells) + " |\n"


def main(argv: list[str]) -> int:
    """Write the page, or check it (`--check`)."""
    from scripts.generated import write_or_check

    return write_or_check(PAGE, zoo_text, "zoo_table.py", argv)


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))  # run as a file: `scripts` is found from the root
    sys.exit(main(sys.argv[1:]))
