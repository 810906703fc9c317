"""The shell of an HTML report: one self-contained HTML5 page, and the elements its views share.

The page carries its own style and script and loads nothing: no network, no file, fonts from the
system. It reads and prints in full without JavaScript; the script only sorts a table when a
column heading is clicked (on each cell's `data-value`: the exact integer, or the number a
figure stands for) and the hover text is each element's `title`. Every text given to these
helpers is plain text, escaped here (`for_html`); an argument named `markup` is HTML already.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from fractions import Fraction

from mbcalc.views.convention import CONVENTION
from mbcalc.views.escape import for_html

Value = int | float | str | None
"""What a cell sorts by: a count, a measure, a text, or nothing (sorted last)."""

STYLE = """
:root { color-scheme: light; --ink: #1b1f24; --dim: #5b6470; --rule: #d5dae0;
  --head: #f1f3f5; --ma: #2f6db5; --pa: #a13d8f; --compute: #1f7a8c; --memory: #b7791f;
  --win: #1e7b34; }
* { box-sizing: border-box; }
body { margin: 1.5rem auto; max-width: 112rem; padding: 0 1rem; color: var(--ink);
  font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans", sans-serif; }
h1 { font-size: 1.5rem; margin: 0 0 .25rem; overflow-wrap: anywhere; }
h2 { font-size: 1.1rem; margin: 1.75rem 0 .5rem; border-bottom: 1px solid var(--rule); }
p, li, dd { overflow-wrap: anywhere; }
.setting { color: var(--dim); margin: 0 0 1rem; }
.scroll { overflow-x: auto; }
table { border-collapse: collapse; font-variant-numeric: tabular-nums; }
th, td { padding: .2rem .55rem; border-bottom: 1px solid var(--rule); text-align: left;
  vertical-align: top; }
thead th { background: var(--head); position: sticky; top: 0; white-space: nowrap; }
thead th.group { text-align: center; font-weight: 600; color: var(--dim); white-space: normal; }
th[data-sort] { cursor: pointer; }
th[data-sort]::after { content: " \\2195"; color: var(--dim); font-weight: normal; }
th[aria-sort=descending]::after { content: " \\2193"; color: var(--ink); }
th[aria-sort=ascending]::after { content: " \\2191"; color: var(--ink); }
td.num, th.num { text-align: right; white-space: nowrap; }
td.nowrap { white-space: nowrap; }
tr.unit td { font-weight: 600; background: #f8f9fa; }
tr.op.member td:first-child { padding-left: 1.5rem; }
.prefix { color: var(--dim); }
table.sorted tr.unit { display: none; }
table.sorted tr.op.member td:first-child { padding-left: .55rem; }
tfoot td { font-weight: 700; border-top: 2px solid var(--ink); }
.winner { color: var(--win); font-weight: 700; }
.missing { color: var(--dim); }
.compute { color: var(--compute); }
.memory { color: var(--memory); }
dl.lines { display: grid; grid-template-columns: max-content 1fr; gap: .15rem 1rem; margin: 0; }
dl.lines dt { font-weight: 600; }
dl.lines dd { margin: 0; }
.bars td { border: none; padding: .1rem .5rem; }
.bars td.track { width: 60%; min-width: 12rem; }
.bar { height: .8rem; min-width: 1px; }
.bar, .bar.ma { background: var(--ma); }
.bar.pa { background: var(--pa); }
.swatch { display: inline-block; width: .8rem; height: .8rem; vertical-align: middle; }
.note { color: var(--dim); font-size: .9em; }
svg { max-width: 100%; height: auto; font: 11px system-ui, sans-serif; }
svg .axis { stroke: var(--ink); }
svg .grid { stroke: var(--rule); }
svg .roof { stroke: var(--ink); stroke-width: 2; fill: none; }
svg .slower { stroke: var(--dim); stroke-dasharray: 6 4; fill: none; }
svg .ridge { stroke: var(--dim); stroke-dasharray: 2 3; }
svg circle.compute { fill: var(--compute); fill-opacity: .75; }
svg circle.memory { fill: var(--memory); fill-opacity: .75; }
footer { margin-top: 2rem; color: var(--dim); font-size: .85em; }
@media print {
  @page { size: A4 landscape; margin: 10mm; }
  body { margin: 0; max-width: none; padding: 0; font-size: 7.5pt; }
  .scroll { overflow: visible; }
  th, td { padding: .1rem .3rem; }
  td.nowrap, thead th { white-space: normal; }
  td:first-child { overflow-wrap: anywhere; min-width: 5rem; }
  thead { display: table-header-group; }
  thead th { position: static; }
  tr { break-inside: avoid; }
  h2 { break-after: avoid; }
  th[data-sort]::after { content: none; }
}
"""

SCRIPT = """
(function () {
  "use strict";
  function key(cell) {
    var text = cell ? cell.getAttribute("data-value") : null;
    if (text === null || text === "") return null;
    if (/^-?[0-9]+$/.test(text)) return BigInt(text);
    var number = Number(text);
    return isNaN(number) ? text.toLowerCase() : number;
  }
  function compare(a, b) {
    if (a === b) return 0;
    if (a === null) return 1;
    if (b === null) return -1;
    if (typeof a === "string" || typeof b === "string") { a = String(a); b = String(b); }
    return a < b ? -1 : a > b ? 1 : 0;
  }
  function show(table, body, rows, sorted) {  /* rebuilt apart from the page: one layout */
    var next = body.nextSibling;
    table.removeChild(body);
    rows.forEach(function (row) { body.appendChild(row); });
    table.classList.toggle("sorted", sorted);
    table.insertBefore(body, next);
  }
  document.querySelectorAll("table.sortable").forEach(function (table) {
    var body = table.tBodies[0];
    var original = Array.prototype.slice.call(body.rows);
    var headings = table.querySelectorAll("thead th[data-sort]");
    headings.forEach(function (heading) {
      heading.tabIndex = 0;
      function sort() {
        var state = heading.getAttribute("aria-sort");
        var next = state === "descending" ? "ascending" : state === "ascending" ? "none"
          : "descending";
        headings.forEach(function (other) { other.removeAttribute("aria-sort"); });
        if (next === "none") {
          show(table, body, original, false);
          return;
        }
        heading.setAttribute("aria-sort", next);
        var column = Number(heading.getAttribute("data-column"));
        var sign = next === "descending" ? -1 : 1;
        var keyed = original.filter(function (row) { return !row.classList.contains("unit"); })
          .map(function (row) { return [key(row.cells[column]), row]; });
        keyed.sort(function (a, b) {  /* stable: rows alike keep the report's order */
          var order = compare(a[0], b[0]);
          return a[0] === null || b[0] === null ? order : sign * order;
        });
        show(table, body, keyed.map(function (pair) { return pair[1]; }), true);
      }
      heading.addEventListener("click", sort);
      heading.addEventListener("keydown", function (event) {
        if (event.key === "Enter" || event.key === " ") { event.preventDefault(); sort(); }
      });
    });
  });
})();
"""


def page(title: str, heading: str, setting: str, sections: Iterable[str]) -> str:
    """The whole page: `title` in the browser's tab, `heading` and its `setting` line on top,
    the `sections` (markup) beneath, the counting convention at the foot."""
    body = "\n".join(sections)
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        '<meta name="generator" content="mbcalc">\n'
        f"<title>{for_html(title)}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n"
        f"<header>\n<h1>{for_html(heading)}</h1>\n"
        f'<p class="setting">{for_html(setting)}</p>\n</header>\n'
        f"<main>\n{body}\n</main>\n"
        f"<footer>{for_html(CONVENTION)}.</footer>\n"
        f"<script>{SCRIPT}</script>\n</body>\n</html>\n"
    )


def section(title: str, *markup: str) -> str:
    """A titled section of the page holding `markup`."""
    return f"<section>\n<h2>{for_html(title)}</h2>\n" + "\n".join(markup) + "\n</section>"


def paragraph(text: str, note: bool = False) -> str:
    """A paragraph of text; a `note` is set smaller and dimmed."""
    return f'<p class="note">{for_html(text)}</p>' if note else f"<p>{for_html(text)}</p>"


def lines(rows: Sequence[tuple[str, str]]) -> str:
    """Labelled lines (label, text), as the terminal prints under a table; an empty label
    continues the line above."""
    items = "".join(f"<dt>{for_html(label)}</dt><dd>{for_html(text)}</dd>" for label, text in rows)
    return f'<dl class="lines">{items}</dl>' if rows else ""


@dataclass(frozen=True, slots=True)
class Column:
    """A column heading: its text, whether its cells are numbers (aligned right), whether a
    click sorts by it, and how many columns it spans (a group heading)."""

    title: str
    numeric: bool = False
    sortable: bool = True
    span: int = 1
    hover: str = ""


def cell(
    text: str,
    value: Value = None,
    *,
    numeric: bool = False,
    hover: str = "",
    classes: str = "",
    markup: str | None = None,
    style: str = "",
) -> str:
    """A `<td>`: its text (or `markup`), the `value` it sorts by, the `hover` text, and an
    inline `style` (a colour computed for this cell alone)."""
    names = " ".join(name for name in (classes, "num" if numeric else "") if name)
    attributes = f' class="{names}"' if names else ""
    if style:
        attributes += f' style="{for_html(style)}"'
    if value is not None:
        attributes += f' data-value="{for_html(_value_text(value))}"'
    if hover:
        attributes += f' title="{for_html(hover)}"'
    return f"<td{attributes}>{for_html(text) if markup is None else markup}</td>"


def count_cell(count: int | None, text: str, hover: str = "", classes: str = "") -> str:
    """A number's cell, sorted by the exact `count`; an empty cell when there is none."""
    return cell(text, count, numeric=True, hover=hover, classes=classes)


def _value_text(value: int | float | str) -> str:
    if isinstance(value, bool):
        return str(int(value))
    return repr(value) if isinstance(value, float) else str(value)


def row(cells: Iterable[str], classes: str = "", hover: str = "") -> str:
    """A `<tr>` of cells (markup)."""
    attributes = f' class="{classes}"' if classes else ""
    attributes += f' title="{for_html(hover)}"' if hover else ""
    return f"<tr{attributes}>{''.join(cells)}</tr>"


def heading_row(columns: Sequence[Column], sortable: bool) -> str:
    """A row of `<th>`s; in a sortable table, a click on a sortable heading sorts its column."""
    cells = []
    index = 0
    for column in columns:
        attributes = ' class="num"' if column.numeric else ""
        if column.span > 1:
            attributes = f' class="group" colspan="{column.span}"'
        elif sortable and column.sortable:
            attributes += f' data-sort="" data-column="{index}" scope="col"'
        if column.hover:
            attributes += f' title="{for_html(column.hover)}"'
        cells.append(f"<th{attributes}>{for_html(column.title)}</th>")
        index += column.span
    return f"<tr>{''.join(cells)}</tr>"


def table(
    columns: Sequence[Column],
    rows: Iterable[str],
    *,
    groups: Sequence[Column] = (),
    foot: Sequence[str] = (),
    caption: str = "",
    sortable: bool = True,
    classes: str = "",
) -> str:
    """A table: `groups` heading spans above the `columns`' headings, the body `rows` and the
    `foot` rows (markup); sortable by a click on a heading."""
    names = " ".join(name for name in (classes, "sortable" if sortable else "") if name)
    head = ([heading_row(groups, False)] if groups else []) + [heading_row(columns, sortable)]
    parts = [
        f'<div class="scroll"><table class="{names}">',
        f"<caption>{for_html(caption)}</caption>" if caption else "",
        f"<thead>{''.join(head)}</thead>",
        "<tbody>",
        *rows,
        "</tbody>",
        f"<tfoot>{''.join(foot)}</tfoot>" if foot else "",
        "</table></div>",
    ]
    return "\n".join(part for part in parts if part)


def bar(share: Fraction | float, largest: Fraction | float, kind: str, hover: str) -> str:
    """A bar `share / largest` of its track wide (the largest fills it), its exact figure in
    `hover`; `kind` is `ma` (mult-adds) or `pa` (params)."""
    width = 0.0 if not largest else float(share) / float(largest) * 100
    return f'<div class="bar {kind}" style="width:{width:.2f}%" title="{for_html(hover)}"></div>'
