"""Every table of the study in three forms: CSV (exact numbers), Markdown (the summary links it) and
HTML (an item of `snakemake --report`, sortable by a click on a column and filtered by a text box)."""

import html
import math

import markdown
import pandas as pd

from .files import write_text_atomic


# Columns holding fractions that a reader wants in percent (errors, intervals, differences of errors);
# differences of two errors (and their intervals) are headed in percentage points. Counts of errors and
# ratios (with their intervals) stay as they are.
PERCENT_WORDS = ("error", "low", "high", "difference", "gap", "seed_test_", "seed_mean")
POINTS_WORDS = ("difference", "gap")
NOT_PERCENT_WORDS = ("errors", "ratio")


def describe_p(p_value) -> str:
    """A p-value for prose: 'p < 0.001', 'p = 0.03' (two significant digits), or 'not testable'."""
    if p_value is None or math.isnan(p_value):
        return "not testable"
    return "p < 0.001" if p_value < 0.001 else f"p = {p_value:.2g}"


def is_percent(column):
    return any(word in column for word in PERCENT_WORDS) and not any(word in column for word in NOT_PERCENT_WORDS)


def unit(column):
    """What a column's header says its numbers are in: ' (points)', ' (%)' or nothing."""
    if not is_percent(column):
        return ""
    return " (points)" if any(word in column for word in POINTS_WORDS) else " (%)"


def shown_value(column, value):
    """A cell as a reader sees it: fractions in percent, p-values in words, ratios to two decimals, other
    floats rounded."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    if "p_value" in column:
        return describe_p(value)
    if isinstance(value, float) and is_percent(column):
        return f"{100 * value:.2f}"
    if isinstance(value, float) and "ratio" in column:
        return f"{value:.2f}"
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def shown_table(frame):
    """The table with every cell formatted and percent columns named so."""
    shown = pd.DataFrame(
        {column: [shown_value(column, value) for value in frame[column].tolist()] for column in frame.columns}
    )
    shown.columns = [column.replace("_", " ") + unit(column) for column in frame.columns]
    return shown


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


def table_html(frame, title, note=""):
    """A self-contained HTML page of the table: title, what it shows, a filter box, sortable columns."""
    shown = shown_table(frame)
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


def table_markdown(frame, title, note=""):
    return (
        f"# {title}\n\n"
        + (f"{note}\n\n" if note else "")
        + shown_table(frame).to_markdown(index=False, disable_numparse=True)
        + "\n"
    )


def write_table(frame, csv_path, md_path, html_path, title, note=""):
    """The table as CSV (exact numbers), Markdown and HTML (formatted for reading)."""
    write_text_atomic(csv_path, frame.to_csv(index=False))
    if md_path:
        write_text_atomic(md_path, table_markdown(frame, title, note))
    write_text_atomic(html_path, table_html(frame, title, note))


def markdown_fragment(text):
    """A Markdown document (the summary) as HTML to place inside a page."""
    return markdown.markdown(text, extensions=["tables"]) + "\n"


def markdown_html(text, title):
    """A Markdown document (the summary) as a self-contained HTML page."""
    return (
        f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>{STYLE}"
        f"</head><body>{markdown_fragment(text)}</body></html>\n"
    )
