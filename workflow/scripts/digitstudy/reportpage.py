"""The summary inside `snakemake --report`: as a report item of its own (results/report/summary.html)
and as the findings the report's start page shows (results/report/findings.html)."""

import re

from .tables import markdown_fragment, markdown_html


def without_links(text):
    """The summary for the report, where every table and figure is an item of its own: link texts stay,
    link targets and embedded pictures go."""
    text = re.sub(r"!\[[^\]]*\]\([^)]*\)", "(figure: see the report's study section)", text)
    return re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", text)


def report_item_html(text, report_href=None):
    """The summary's Markdown `text` as the report item results/report/summary.html. `report_href`:
    the rule script's snakemake.report_href (None outside a rule)."""
    return markdown_html(without_links(text), "digitstudy results")


def landing_html(text, report_href=None):
    """The summary's Markdown `text` as the fragment the report's start page embeds."""
    return markdown_fragment(without_links(text))
