"""Writes tests/tabulate_cases.json: each case's columns and rows (as the host sends them) and
what Datasette's datasette-copyable answers for every format, with Python's csv and tabulate.

    python3 -m venv /tmp/venv && /tmp/venv/bin/pip install tabulate==0.10.0
    /tmp/venv/bin/python plugins/copyable/tools/expected.py

The tests read the JSON; they do not need Python.
"""

import base64
import csv
import io
import json
import os

import tabulate

CASES = [
    {
        "name": "dogs",
        "columns": ["id", "name", "age", "weight", "species"],
        "rows": [[1, "Cleo", 5, 51.2, 1], [2, "Pancakes", 4, 35.5, 1]],
    },
    {
        "name": "mixed",
        "columns": ["text", "n", "f", "numeric_text", "maybe", "flag"],
        "rows": [
            ["<b>Tom & \"Jerry\"</b>", -3, 1234567.0, "007", None, "True"],
            ["50% of $x_1^2 {~} \\ #", 12345, 0.00001, "1,000", "", "False"],
            ["caf\u00e9  ", 0, -0.0, "3.14", "x", None],
            ["  padded", 7, 1e20, "1e3", None, ""],
            ["", -12, 2.5, "-4", "", "True"],
        ],
    },
    {
        "name": "floats",
        "columns": ["a", "b", "c"],
        "rows": [
            [1.0, 123456.0, 0.1],
            [-2.25, 1234565.0, 100000.0],
            [3, 0.0001, 1e-7],
            [None, 1.5e300, 12.5],
        ],
    },
    {
        "name": "multiline",
        "columns": ["id", "body", "score"],
        "rows": [
            [1, "first line\nsecond line", 1.5],
            [2, "one", None],
            [3, "", 10],
            [4, "a\r\nb\n", 2],
        ],
    },
    {
        "name": "empty",
        "columns": ["id", "title", "updated"],
        "rows": [],
    },
    {
        "name": "blank_first_column",
        "columns": ["label", "value"],
        "rows": [["", 1], ["  ", 2], [None, 3], ["x", 4]],
    },
    {
        "name": "blobs_and_one_column",
        "columns": ["data"],
        "rows": [
            [{"$base64": True, "encoded": base64.b64encode(b"\x00\xffab'").decode()}],
            [{"$base64": True, "encoded": base64.b64encode(b"hello").decode()}],
            [None],
            [""],
        ],
    },
    {
        "name": "text_that_may_be_numbers",
        "columns": ["a", "b", "c", "d"],
        "rows": [
            ["1_000", "inf", " 12 ", "+inf"],
            ["12,345,678", "-inf", "\t7", "0x10"],
            ["1.", "nan", "\u3000 8", "1e999"],
            [".5", "1e-7", "-0", "True"],
        ],
    },
    {
        "name": "multiline_header_and_odd_breaks",
        "columns": ["first\nsecond", "x"],
        "rows": [["a\x0bb", 1], ["c\u2028d", 2], ["x\r\ny", None], [None, None]],
    },
    {
        "name": "labels",
        "columns": ["id", "species"],
        "rows": [[1, {"value": 1, "label": "Dog"}], [2, {"value": 2, "label": "Cat"}]],
    },
]


def python_cell(cell):
    """The cell as Datasette hands it to the plugin."""
    if isinstance(cell, dict) and cell.get("$base64"):
        return base64.b64decode(cell["encoded"])
    return cell


def render(rows, columns, table_format):
    """datasette_copyable.render_copyable's text, without the page."""
    new_rows = []
    for row in rows:
        new_row = []
        for cell in row:
            if isinstance(cell, dict):
                new_row.append(cell["label"])
            else:
                new_row.append(cell)
        new_rows.append(new_row)
    rows = new_rows
    if table_format == "tsv":
        writer = io.StringIO()
        csv_writer = csv.writer(writer, delimiter="\t")
        csv_writer.writerow(columns)
        for row in rows:
            csv_writer.writerow(row)
        return writer.getvalue()
    return tabulate.tabulate(rows, tablefmt=table_format, headers=columns)


def main():
    out = {"tabulate": tabulate.__version__, "formats": tabulate.tabulate_formats, "cases": []}
    for case in CASES:
        rows = [
            [python_cell(c) if not (isinstance(c, dict) and "label" in c) else c for c in row]
            for row in case["rows"]
        ]
        outputs = {f: render(rows, case["columns"], f) for f in tabulate.tabulate_formats}
        out["cases"].append({**case, "outputs": outputs})
    path = os.path.join(os.path.dirname(__file__), "..", "tests", "tabulate_cases.json")
    with open(path, "w", encoding="utf-8") as f:
        json.dump(out, f, indent=1, ensure_ascii=False)
        f.write("\n")


if __name__ == "__main__":
    main()
