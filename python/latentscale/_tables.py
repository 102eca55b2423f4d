"""Tables: a CSV path, a pandas DataFrame or a dict of columns -> ls_table.

In-memory tables are written as RFC 4180 text and parsed by ls_table_parse,
so they get exactly the checks of a file (duplicate or empty column names,
ragged rows, NUL bytes, invalid UTF-8) and error messages name the row as a
line of that text (row i is line i + 2).  Numbers are written with repr(),
which round-trips every double: a table read from a CSV file and passed back
as a DataFrame gives the library the same values, so the same fit.
"""
import contextlib
import csv
import ctypes
import io
import math
import numbers
import os
import sys
from collections.abc import Mapping

import numpy as np

from . import _capi
from .errors import InputError


def pandas():
    """The pandas module, imported on first need (it is optional and slow to import), or None."""
    try:
        import pandas as pd
    except ImportError:
        return None
    return pd


def have_pandas():
    return pandas() is not None


def is_dataframe(x):
    # a DataFrame can only exist once pandas is imported: never import it here
    pd = sys.modules.get("pandas")
    return pd is not None and isinstance(x, pd.DataFrame)


def is_path(x):
    return isinstance(x, (str, bytes, os.PathLike))


def _cell(v):
    """One value as CSV text: missing (None, NaN, pandas NA) -> ''."""
    if v is None:
        return ""
    if isinstance(v, str):
        return v
    if isinstance(v, (bool, np.bool_)):
        return "1" if v else "0"
    if isinstance(v, numbers.Integral):
        return str(int(v))
    if isinstance(v, numbers.Real):
        f = float(v)
        return "" if math.isnan(f) else repr(f)
    pd = sys.modules.get("pandas")
    if pd is not None and v is pd.NA:
        return ""
    if isinstance(v, bytes):
        return v.decode("utf-8")
    return str(v)


def columns_of(data):
    """(names, list of columns as lists of cell strings) for a DataFrame or a mapping."""
    if is_dataframe(data):
        names = [str(c) for c in data.columns]
        cols = [[_cell(v) for v in data.iloc[:, i].tolist()] for i in range(data.shape[1])]
    elif isinstance(data, Mapping):
        names = [str(k) for k in data.keys()]
        cols = []
        for k, v in data.items():
            if isinstance(v, (str, bytes)) or not hasattr(v, "__len__"):
                raise InputError("column '%s': expected a sequence of values, found %s"
                                 % (k, type(v).__name__))
            cols.append([_cell(x) for x in (v.tolist() if isinstance(v, np.ndarray) else v)])
    else:
        raise InputError("a table is a CSV path, a pandas DataFrame or a dict of columns; found %s"
                         % type(data).__name__)
    lengths = {len(c) for c in cols}
    if len(lengths) > 1:
        raise InputError("columns of different lengths: "
                         + ", ".join("%s %d" % (n, len(c)) for n, c in zip(names, cols)))
    return names, cols


def csv_text(names, cols):
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(names)
    for row in zip(*cols):
        w.writerow(row)
    return buf.getvalue()


def source_name(data):
    if is_path(data):
        return os.fsdecode(data)
    return "<DataFrame>" if is_dataframe(data) else "<dict>"


@contextlib.contextmanager
def table(data, name=None):
    """Context manager yielding an ls_table* (c_void_p value) for data; frees it on exit.

    data: a path (str / PathLike) to a CSV file (an unnamed first column,
    pandas' or R's index, is ignored), a pandas DataFrame (its index is
    ignored) or a mapping column name -> sequence of values.
    """
    t = open_table(data, name)
    try:
        yield t
    finally:
        _capi.lib().ls_table_free(t)


def open_table(data, name=None):
    """An ls_table* the caller must free with ls_table_free."""
    lib = _capi.lib()
    err = _capi.new_error()
    out = _capi.c_void_p()
    if is_path(data):
        rc = lib.ls_items_table_read(_capi.enc(data), ctypes.byref(out), err)
    else:
        names, cols = columns_of(data)
        raw = csv_text(names, cols).encode("utf-8")
        rc = lib.ls_table_parse(raw, len(raw), _capi.enc(name or source_name(data)),
                                ctypes.byref(out), err)
    _capi.check(rc, err)
    return out.value


def to_columns(t):
    """An ls_table* -> dict name -> numpy float array (numeric columns, NaN missing) or list of str."""
    lib = _capi.lib()
    nrow, ncol = lib.ls_table_nrow(t), lib.ls_table_ncol(t)
    out = {}
    err = _capi.new_error()
    v, miss = ctypes.c_double(), ctypes.c_int()
    for c in range(ncol):
        name = _capi.dec(lib.ls_table_colname(t, c))
        vals = np.empty(nrow)
        numeric = True
        for r in range(nrow):
            if lib.ls_table_number(t, r, c, ctypes.byref(v), ctypes.byref(miss), err) != 0:
                numeric = False
                break
            vals[r] = v.value
        out[name] = vals if numeric and nrow else [
            _capi.dec(lib.ls_table_cell(t, r, c)) for r in range(nrow)]
    return out
