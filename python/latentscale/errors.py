"""Exceptions raised by the binding.

Every failing C call fills an ``ls_error``; the binding raises the subclass of
:class:`LatentscaleError` that matches its status code, carrying the C
message unchanged.  Errors detected by the binding itself (a family name not
in the data, a negative count) use the same classes and the same wording as
the command line.
"""
import re


class LatentscaleError(Exception):
    """A latentscale call failed.

    ``code`` is the C status (``enum ls_status``), ``status`` its short name
    ("io", "parse", ...) and ``message`` the one-line C message.
    """

    code = -1
    status = "error"

    def __init__(self, message, code=None, status=None):
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        if status is not None:
            self.status = status

    def __str__(self):
        return self.message


class FileError(LatentscaleError):
    """LS_ERR_IO: a file could not be read or written."""
    code, status = 1, "io"


class ParseError(LatentscaleError):
    """LS_ERR_PARSE: malformed input text (CSV, JSON)."""
    code, status = 2, "parse"


class InputError(LatentscaleError, ValueError):
    """LS_ERR_INPUT: well-formed input with invalid content."""
    code, status = 3, "input"


class OptionError(LatentscaleError, ValueError):
    """LS_ERR_OPTION: an option value is invalid."""
    code, status = 4, "option"


class OutOfMemoryError(LatentscaleError, MemoryError):
    """LS_ERR_NOMEM: allocation failed."""
    code, status = 5, "nomem"


class NumericalError(LatentscaleError, ArithmeticError):
    """LS_ERR_NUMERIC: degenerate data or a numerical breakdown."""
    code, status = 6, "numeric"


class ConvergenceError(LatentscaleError):
    """LS_ERR_NOCONV: the optimiser did not converge."""
    code, status = 7, "noconv"


class CancelledError(LatentscaleError):
    """LS_ERR_CANCEL: the progress callback asked to stop."""
    code, status = 8, "cancel"


class LibraryNotFoundError(LatentscaleError, ImportError):
    """liblatentscale.so could not be found or loaded."""
    code, status = -1, "library"


class LatentscaleWarning(UserWarning):
    """A result that is returned but should be looked at (a fit that did not converge)."""


BY_CODE = {c.code: c for c in (FileError, ParseError, InputError, OptionError, OutOfMemoryError,
                               NumericalError, ConvergenceError, CancelledError)}


# The library names options by their fields ("param_draws: ...", "drop it
# with `covariates`"); Python by its keywords.  Where the two differ:
_KEYWORDS = {"floors_file": "floors", "floors": "floor", "ceilings_file": "ceilings",
             "ceiling_list": "ceilings", "skip_se": "se", "select_path": "select"}
_LEAD = re.compile(r"^([a-z_]+(?:(?:/| x )[a-z_]+)*): ")
_QUOTED = re.compile(r"`([a-z_]+)`")


def python_words(message):
    """A library message in the binding's vocabulary: option fields as keyword
    names (a leading "field: ", and every `field`)."""
    message = _QUOTED.sub(lambda m: _KEYWORDS.get(m.group(1), m.group(1)), message)
    m = _LEAD.match(message)
    if m:
        words = re.split(r"(/| x )", m.group(1))
        message = "".join(_KEYWORDS.get(w, w) for w in words) + message[m.end(1):]
    return message


def error_for(code, message, status=None):
    """The exception instance for a C status code and message (in Python words)."""
    cls = BY_CODE.get(code, LatentscaleError)
    return cls(python_words(message), code=code, status=status)
