"""Every table of the study in three forms: CSV (exact numbers), Markdown (the summary links it) and
HTML (an item of `snakemake --report`, sortable by a click on a column and filtered by a text box).
Each table says how its columns read (Units); nothing is guessed from a column's name."""

import html
import math
from dataclasses import dataclass

import pandas as pd

from .files import write_text_atomic


@dataclass(frozen=True)
class Units:
    """How a table's columns read in Markdown and HTML, each column named by the table's writer: a
    column not named shows its value as it is (an integer whole, any other number to four significant
    digits)."""

    percent: tuple[str, ...] = ()  # fractions (errors, their intervals and spreads, chances): in percent
    points: tuple[str, ...] = ()  # differences of two fractions, signed: in percentage points
    p_values: tuple[str, ...] = ()  # in words: 'p < 0.001', 'p = 0.03'
    two_digits: tuple[str, ...] = ()  # rough quantities (hours, ratios of spreads): two significant digits

    def __post_init__(self):
        if any(isinstance(columns, str) for columns in vars(self).values()):  # ("error") would match "test_error"
            raise TypeError(f"Units name columns in a tuple, as ('error',): got {self}")

    def kind(self, column):
        """'percent', 'points', 'p_values', 'two_digits', or None for a column shown as it is."""
        return next((name for name, columns in vars(self).items() if column in columns), None)

    def header(self, column):
        """A column's header: its name in words, with its unit where it has one."""
        unit = {"percent": " (%)", "points": " (points)"}.get(self.kind(column), "")
        return column.replace("_", " ") + unit


def percent_text(fraction) -> str:
    """A fraction (or a difference of two) in percent (or percentage points) for a reader: '1.23',
    '-0.35'; '-' where there is none."""
    return "-" if fraction is None or pd.isna(fraction) else f"{100 * fraction:.2f}"


def number_text(value, digits=4) -> str:
    """A number to `digits` significant digits as format's 'g' gives it, but never in exponent form:
    0.00048, 3.5, 1200."""
    if not math.isfinite(value) or value == 0:
        return f"{value:g}"
    rounded = float(f"{value:.{digits}g}")
    decimals = max(digits - 1 - math.floor(math.log10(abs(rounded))), 0)
    text = f"{rounded:.{decimals}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def two_digits_text(value) -> str:
    """A rough quantity (hours, a ratio of spreads) for a reader: two significant digits, 0.00048, 13."""
    return number_text(value, 2)


def describe_p(p_value) -> str:
    """A p-value for prose: 'p < 0.001', 'p = 0.03' (two significant digits), or 'not testable'."""
    if p_value is None or math.isnan(p_value):
        return "not testable"
    return "p < 0.001" if p_value < 0.001 else f"p = {p_value:.2g}"


SHOWN_AS = {
    "percent": percent_text,
    "points": percent_text,
    "p_values": describe_p,
    "two_digits": two_digits_text,
}


def shown_value(value, kind=None):
    """A cell as a reader sees it, `kind` its column's (Units.kind)."""
    if value is None or pd.isna(value):
        return "-"
    if kind is not None:
        return SHOWN_AS[kind](value)
    if isinstance(value, float):
        return number_text(value)
    return str(value)


def shown_table(frame, units=Units()):
    """The table with every cell as text and every column headed in words with its unit."""
    named = {column for columns in vars(units).values() for column in columns}
    if named - set(frame.columns):
        raise ValueError(f"units name columns that the table lacks: {sorted(named - set(frame.columns))}")
    return pd.DataFrame(
        {
            units.header(column): [shown_value(value, units.kind(column)) for value in frame[column].tolist()]
            for column in frame.columns
        },
        columns=[units.header(column) for column in frame.columns],
    )


SORT_SCRIPT = """<script>
function filterRows(box) {
  const words = box.value.toLowerCase();
  for (const row of document.querySelectorAll("tbody tr"))
    row.style.display = row.textContent.toLowerCase().includes(words) ? "" : "none";
}
function sortBy(header) {
  const body = document.querySelector("tbody"), index = [...header.parentNode.children].indexOf(header);
  const key = row => row.children[index].textContent, number = text => parseFloat(text);
  const up = header.dataset.up !== "1"; header.dataset.up = up ? "1" : "0";
  const rows = [...body.rows].sort((a, b) => {
    const x = key(a), y = key(b), both = !isNaN(number(x)) && !isNaN(number(y));
    return (both ? number(x) - number(y) : x.localeCompare(y)) * (up ? 1 : -1);
  });
  rows.forEach(row => body.appendChild(row));
}
</script>"""
STYLE = """<style>body{font-family:sans-serif;margin:1em}table{border-collapse:collapse;font-size:13px}
th,td{border:1px solid #ccc;padding:3px 6px;text-align:right}th{background:#eee;cursor:pointer;position:sticky;top:0}
td:first-child,th:first-child{text-align:left}</style>"""


def table_html(frame, title, note="", units=Units()):
    """A self-contained HTML page of the table: title, what it shows, a filter box, sortable columns."""
    shown = shown_table(frame, units)
    head = "".join(f'<th onclick="sortBy(this)">{html.escape(column)}</th>' for column in shown.columns)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(cell)}</td>" for cell in row) + "</tr>"
        for row in shown.itertuples(index=False)
    )
    return (
        f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>{STYLE}"
        f"{SORT_SCRIPT}</head><body><h2>{html.escape(title)}</h2><p>{html.escape(note)}</p>"
        "<p><input placeholder='filter rows' oninput='filterRows(this)'> "
        f"({len(shown)} rows; click a column to sort)</p><table><thead><tr>{head}</tr></thead>"
        f"<tbody>{body}</tbody></table></body></html>\n"
    )


def markdown_table(frame, units=Units()):
    """The table alone in Markdown, to stand in a document (the summary) or under a title."""
    return shown_table(frame, units).to_markdown(index=False, disable_numparse=True) + "\n"


def table_markdown(frame, title, note="", units=Units()):
    """A Markdown document of the table: title, what it shows, the table."""
    return f"# {title}\n\n" + (f"{note}\n\n" if note else "") + markdown_table(frame, units)


def write_table(table, csv_path, md_path, html_path, title, note="", *, units=Units(), view=None, markdown_view=None):
    """The table as CSV (its exact numbers) and, formatted for reading, as Markdown (where md_path is
    given) and HTML. `view`: the rows a reader sees, the table's own by default (the seed study adds its
    summary rows), its columns read as `units` says; `markdown_view`: the Markdown's where they differ
    (the grid as lr x momentum), cells of text shown as they are."""
    view = table if view is None else view
    write_text_atomic(csv_path, table.to_csv(index=False))
    if md_path:
        shown, shown_units = (view, units) if markdown_view is None else (markdown_view, Units())
        write_text_atomic(md_path, table_markdown(shown, title, note, shown_units))
    write_text_atomic(html_path, table_html(view, title, note, units))


def markdown_fragment(text):
    """A Markdown document (the summary) as HTML to place inside a page."""
    import markdown  # only the summary's job converts Markdown

    return markdown.markdown(text, extensions=["tables"]) + "\n"


def markdown_html(text, title):
    """A Markdown document (the summary) as a self-contained HTML page."""
    return (
        f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>{STYLE}"
        f"</head><body>{markdown_fragment(text)}</body></html>\n"
    )
