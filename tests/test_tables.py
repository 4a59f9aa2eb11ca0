"""The one table writer: exact numbers in the CSV; in Markdown and HTML, each column as its table says
(fractions in percent, differences in points, p-values in words, rough numbers to two digits), never
guessed from a column's name."""

import math

import pandas as pd
import pytest

from digitstudy.tables import Units, number_text, percent_text, shown_table, table_html, write_table


UNITS = Units(percent=("test_error",), points=("difference_low",), p_values=("p_value",), two_digits=("sd_ratio",))


def frame():
    return pd.DataFrame(
        {
            "model": ["ann", "cnn"],
            "test_error": [0.0123, math.nan],
            "p_value": [0.0001, 0.2],
            "test_errors": [123, 7],
            "difference_low": [-0.002, 0.01],
            "sd_ratio": [0.80653, 12.34],
            "highest_lr": [0.5, 0.25],  # a name with 'high' in it: a number like any other
            "diverged_epoch": pd.array([3, None], dtype="Int64"),
        }
    )


@pytest.mark.parametrize(
    "value, digits, text",
    [(0.0004778, 2, "0.00048"), (3.456, 2, "3.5"), (1234.5, 2, "1200"), (9.96, 2, "10"), (0.5, 2, "0.5")]
    + [(450.0, 4, "450"), (12345.6, 4, "12350"), (0.1, 4, "0.1"), (0.0, 4, "0"), (-0.01234, 2, "-0.012")],
)
def test_numbers_read_to_their_significant_digits_never_in_exponent_form(value, digits, text):
    assert number_text(value, digits) == text


def test_percent_text_is_the_one_percent_formatter():
    assert [percent_text(value) for value in (0.0123, -0.0035, None, math.nan)] == ["1.23", "-0.35", "-", "-"]


def test_each_column_reads_as_its_table_says_and_no_name_is_guessed():
    shown = shown_table(frame(), UNITS)
    assert list(shown.columns) == [
        "model",
        "test error (%)",
        "p value",
        "test errors",
        "difference low (points)",
        "sd ratio",
        "highest lr",
        "diverged epoch",
    ]
    assert list(shown.iloc[0]) == ["ann", "1.23", "p < 0.001", "123", "-0.20", "0.81", "0.5", "3"]
    assert list(shown.iloc[1]) == ["cnn", "-", "p = 0.2", "7", "1.00", "12", "0.25", "-"]
    assert list(shown_table(frame()).iloc[0, :2]) == ["ann", "0.0123"]  # not told: a fraction stays one


def test_units_naming_a_column_the_table_lacks_or_a_string_for_a_tuple_are_a_mistake():
    with pytest.raises(ValueError, match="test_eror"):
        shown_table(frame(), Units(percent=("test_eror",)))
    with pytest.raises(TypeError, match="in a tuple"):
        Units(percent=("test_error"))


def test_write_table_keeps_exact_numbers_in_the_csv_and_shows_the_view_to_readers(tmp_path):
    files = [tmp_path / f"table.{form}" for form in ("csv", "md", "html")]
    view = pd.concat([frame(), pd.DataFrame([{"model": "mean", "test_error": 0.0123}])], ignore_index=True)
    write_table(frame(), *files, "A title", "what it shows", units=UNITS, view=view)
    assert pd.read_csv(files[0])["test_error"].iloc[0] == 0.0123
    markdown = files[1].read_text()
    assert markdown.startswith("# A title\n\nwhat it shows\n\n| model ")
    assert "test error (%)" in markdown and "| mean " in markdown and "0.0123" not in markdown
    page = files[2].read_text()
    assert '<th onclick="sortBy(this)">test error (%)</th>' in page and "<td>mean</td>" in page
    assert page == table_html(view, "A title", "what it shows", UNITS)


def test_a_markdown_view_of_text_cells_is_shown_as_it_is(tmp_path):
    files = [tmp_path / f"grid.{form}" for form in ("csv", "md", "html")]
    pivot = pd.DataFrame({"lr": [0.01], "momentum 0.9": ["2.00 **chosen**"]})
    write_table(frame(), *files, "A grid", units=UNITS, markdown_view=pivot)
    assert (
        files[1]
        .read_text()
        .endswith("| lr   | momentum 0.9    |\n|:-----|:----------------|\n| 0.01 | 2.00 **chosen** |\n")
    )
    assert "test error (%)" in files[2].read_text()  # the HTML: the table's own rows
