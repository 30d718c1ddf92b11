"""pandas frames and series, and numpy arrays that are data: header text plus CSV, cut to budget."""

from __future__ import annotations

import csv
import io
import time

import pytest

from gemini_magic.parts import convert, to_part
from test_parts_helpers import inline_bytes, optional

pd = optional("pandas")
np = optional("numpy")


def csv_of(result) -> str:
    mime, data = inline_bytes(result.parts[1])
    assert mime == "text/csv"
    return data.decode("utf-8")


def test_a_dataframe_is_a_header_and_a_csv_that_round_trips():
    df = pd.DataFrame({
        "city": ["Zürich", "東京", "São Paulo"],
        "population": [421_878, 13_960_000, 12_330_000],
        "area": [87.88, 2194.07, 1521.11],
        "capital": [False, True, False],
        # Within pandas 2's nanosecond range (1677-2262): older dates do not parse there.
        "founded": pd.to_datetime(["1848-09-12", "1868-09-03", "1711-01-25"]),
    }, index=pd.Index(["zh", "tk", "sp"], name="code"))
    result = convert(df)
    assert len(result.parts) == 2 and result.notes == []
    header = result.parts[0]["text"]
    assert header.startswith("pandas DataFrame: 3 rows x 5 columns (CSV below).")
    assert "Index: Index 'code', str, as the first CSV column." in header or \
        "Index: Index 'code', object, as the first CSV column." in header
    assert "city (" in header and "population (int64)" in header and "area (float64)" in header
    assert "capital (bool)" in header and "founded (datetime64" in header
    back = pd.read_csv(io.StringIO(csv_of(result)), index_col="code", parse_dates=["founded"])
    pd.testing.assert_frame_equal(back, df, check_dtype=False, check_index_type=False)
    assert back.loc["tk", "city"] == "東京"


def test_multiindex_columns_are_flattened_and_row_levels_kept():
    columns = pd.MultiIndex.from_tuples([("sales", 2023), ("sales", 2024), ("cost", 2024)])
    index = pd.MultiIndex.from_tuples([("EU", "DE"), ("EU", "FR"), ("US", "CA")], names=["region", "country"])
    df = pd.DataFrame([[1, 2, 3], [4, 5, 6], [7, 8, 9]], index=index, columns=columns)
    text = csv_of(convert(df))
    back = pd.read_csv(io.StringIO(text), index_col=[0, 1])
    assert list(back.columns) == ["sales / 2023", "sales / 2024", "cost / 2024"]
    assert list(back.index) == list(index) and back.index.names == ["region", "country"]
    assert "Index: MultiIndex of region, country, as the first 2 CSV columns." in convert(df).parts[0]["text"]
    assert back.to_numpy().tolist() == df.to_numpy().tolist()
    assert "sales / 2023 (int64)" in convert(df).parts[0]["text"]


def test_a_series_is_a_one_column_table_named_after_it():
    series = pd.Series([0.5, 1.5, 2.5], index=["a", "b", "c"], name="ratio")
    result = convert(series)
    assert result.parts[0]["text"].startswith("pandas Series 'ratio', dtype float64: 3 rows x 1 column (CSV")
    assert "Index: Index, " in result.parts[0]["text"]  # labels a, b, c: kept
    back = pd.read_csv(io.StringIO(csv_of(result)), index_col=0)
    assert list(back.columns) == ["ratio"] and back["ratio"].tolist() == [0.5, 1.5, 2.5]
    unnamed = convert(pd.Series([1, 2]))
    assert csv_of(unnamed).splitlines() == ["value", "1", "2"]  # row numbers 0..n-1 are not sent
    assert "Index:" not in unnamed.parts[0]["text"]


def test_a_million_row_frame_is_cut_before_formatting_and_says_so():
    n = 1_000_000
    df = pd.DataFrame({"id": np.arange(n), "x": np.random.default_rng(0).random(n),
                       "label": pd.Categorical(np.where(np.arange(n) % 2, "odd", "even"))})
    started = time.perf_counter()
    result = convert(df)
    elapsed = time.perf_counter() - started
    assert elapsed < 1.0, elapsed
    cut = "showing first 1,000 and last 1,000 of 1,000,000 rows, 998,000 left out"
    assert cut in result.parts[0]["text"]
    assert result.notes == [f"pandas DataFrame: {cut}"]
    back = pd.read_csv(io.StringIO(csv_of(result)))
    assert list(back.columns) == ["id", "x", "label"]  # the default RangeIndex is not sent, even when cut
    assert len(back) == 2000 and back["id"].iloc[0] == 0 and back["id"].iloc[-1] == n - 1
    assert back["id"].iloc[999] == 999 and back["id"].iloc[1000] == n - 1000


def test_the_table_budget_is_configurable_in_rows_and_bytes(parts_settings):
    df = pd.DataFrame({"text": ["x" * 100] * 500}, index=pd.RangeIndex(500, name="n"))  # named: kept
    parts_settings.max_table_rows = 10
    back = pd.read_csv(io.StringIO(csv_of(convert(df))), index_col="n")
    assert list(back.index) == [0, 1, 2, 3, 4, 495, 496, 497, 498, 499]
    parts_settings.max_table_rows = 5000
    parts_settings.max_table_bytes = 10_000
    result = convert(df)
    data = inline_bytes(result.parts[1])[1]
    assert len(data) <= 10_000 and "of 500 rows" in result.parts[0]["text"]


def test_a_default_index_is_left_out_so_header_and_csv_agree():
    df = pd.DataFrame({"month": ["Jan", "Feb", "Mar"], "sales": [10, 12, 9]})
    result = convert(df)
    assert result.parts[0]["text"] == ("pandas DataFrame: 3 rows x 2 columns (CSV below). "
                                       "Columns: month (str), sales (int64).") or \
        result.parts[0]["text"] == ("pandas DataFrame: 3 rows x 2 columns (CSV below). "
                                    "Columns: month (object), sales (int64).")
    assert csv_of(result) == "month,sales\nJan,10\nFeb,12\nMar,9\n"
    # Row numbers that are not 0..n-1 (a filtered frame) or an unnamed non-integer index mean something:
    # kept as the first CSV column, and the header says so.
    filtered = convert(df[df.sales != 12])
    assert csv_of(filtered).splitlines() == [",month,sales", "0,Jan,10", "2,Mar,9"]
    assert csv_of(convert(df[df.sales > 9])).startswith("month,sales\n")  # rows 0 and 1: still 0..n-1
    assert "Index: RangeIndex, int64, as the first CSV column." in convert(df.iloc[1:]).parts[0]["text"]
    assert "Index, int64, as the first CSV column." in filtered.parts[0]["text"]  # Index or RangeIndex(step 2)
    renumbered = df.copy()
    renumbered.index = pd.Index([0, 1, 2], dtype="int64")  # not a RangeIndex, still 0..n-1
    assert csv_of(convert(renumbered)).startswith("month,sales\n")
    one = convert(pd.DataFrame({"a": [1]}))
    assert one.parts[0]["text"].startswith("pandas DataFrame: 1 row x 1 column (CSV below).")


def test_a_styler_sends_its_data():
    pytest.importorskip("jinja2")
    df = pd.DataFrame({"a": [1, 2]})
    assert convert(df.style).parts == convert(df).parts


# --- numpy arrays that are data --------------------------------------------------------------------

def test_a_small_array_is_one_text_part_written_in_full():
    arr = np.arange(12).reshape(3, 4)
    assert to_part(arr) == {"text": "numpy array, shape (3, 4), dtype int64:\n"
                                    "[[ 0,  1,  2,  3],\n [ 4,  5,  6,  7],\n [ 8,  9, 10, 11]]"}
    assert to_part(np.array(2.5)) == {"text": "2.5"}
    assert to_part(np.float32(1.5)) == {"text": "1.5"}


def test_a_tall_float_array_is_data_not_an_image():
    arr = np.random.default_rng(3).random((600, 3))
    result = convert(arr)
    assert result.parts[0]["text"] == "numpy array, shape (600, 3), dtype float64 (CSV below)"
    text = csv_of(result)
    back = pd.read_csv(io.StringIO(text))
    assert list(back.columns) == ["row", "0", "1", "2"] and back.shape == (600, 4)
    # Full float precision, checked with Python's exact float(): pandas 2's default CSV parser may be
    # off in the last digits, and float_precision="round_trip" is deprecated in pandas 3.
    rows = list(csv.reader(io.StringIO(text)))[1:]
    assert [[float(value) for value in row[1:]] for row in rows] == arr.tolist()


def test_a_long_1d_array_is_cut_like_a_table(parts_settings):
    parts_settings.max_table_rows = 100
    result = convert(np.arange(10_000, dtype=np.int32))
    back = pd.read_csv(io.StringIO(csv_of(result)))
    assert list(back.columns) == ["row", "value"] and len(back) == 100
    assert back["row"].iloc[-1] == 9999 and back["value"].iloc[50] == 9950
    assert "showing first 50 and last 50 of 10,000 rows" in result.parts[0]["text"]


def test_a_3d_array_that_is_not_an_image_is_flattened_to_2d():
    arr = np.arange(2 * 300 * 5).reshape(2, 300, 5).astype(np.int64)
    result = convert(arr)
    back = pd.read_csv(io.StringIO(csv_of(result)))
    assert back.shape == (600, 6)
    assert any("leading dimensions flattened" in note for note in result.notes)


def test_small_arrays_inside_a_dict_stay_json():
    part = to_part({"weights": np.array([0.5, 0.25]), "n": np.int64(3)})
    assert part == {"text": '{\n  "weights": [\n    0.5,\n    0.25\n  ],\n  "n": 3\n}'}
