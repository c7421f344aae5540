"""The one exception hierarchy of ketaclinic.

::

    KetaclinicError                 base of everything we raise on purpose
    +-- UserInputError              bad input from a person or a file: exit code 2, HTTP 422
    |   +-- OutOfRangeError         a value outside its declared clinical range
    |   +-- DoseSyntaxError         a dose string the dose grammar does not accept
    |   +-- UnknownNameError        an unknown model, route, protocol, ...
    |   +-- RefusedRouteError       a route refused for clinical reasons (neuraxial)
    |   +-- ConfigurationError      a KETACLINIC_* setting with a value that is not accepted
    |   +-- RecordNotFoundError     no stored record has the given id (also an UnknownNameError)
    +-- RefusedError                a well-formed request refused by a rule: exit code 3, HTTP 409
    |   +-- StorageError            the database cannot be used safely now (unsafe durability
    |   |                           settings, another process holds the SQLite writer lock)
    |   +-- NotAllowedError         the acting staff member's role (or a disabled account) may
    |   |                           not do this: exit code 3, HTTP 403
    |   +-- ThrottledError          too many failed sign-ins; try again later: HTTP 429
    +-- AuthenticationError         not signed in, a wrong password, an ended session: HTTP 401
    +-- IntegrityFailureError       stored data failed verification (audit chain, backup file,
                                    integrity check): exit code 4
    +-- ModelError                  a model cannot do what was asked (e.g. route not fitted)
    +-- NumericalError              the solver met a system it cannot solve exactly
    +-- DataFileError               a packaged data file (protocol, drug library) is invalid

User errors carry a plain one-line message that says what was wrong and what is accepted.
Interfaces (CLI, web) show that message and never a traceback.
"""

from __future__ import annotations

__all__ = [
    "AuthenticationError",
    "ConfigurationError",
    "DataFileError",
    "DoseSyntaxError",
    "IntegrityFailureError",
    "KetaclinicError",
    "ModelError",
    "NotAllowedError",
    "NumericalError",
    "OutOfRangeError",
    "RecordNotFoundError",
    "RefusedError",
    "RefusedRouteError",
    "StorageError",
    "ThrottledError",
    "UnknownNameError",
    "UserInputError",
]


class KetaclinicError(Exception):
    """Base class of every error ketaclinic raises on purpose."""


class UserInputError(KetaclinicError, ValueError):
    """Input from a person or a file is invalid; the message says what is accepted."""


class OutOfRangeError(UserInputError):
    """A value lies outside its declared clinical range."""


class DoseSyntaxError(UserInputError):
    """A dose string does not follow the dose grammar."""


class UnknownNameError(UserInputError, KeyError):
    """An unknown identifier (model, route, protocol, threshold name...)."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


class RefusedRouteError(UserInputError):
    """A route ketaclinic refuses on clinical grounds (intrathecal, epidural)."""


class ModelError(KetaclinicError, ValueError):
    """A model cannot do what was asked of it (for example a route it was not fitted to)."""


class NumericalError(KetaclinicError, ArithmeticError):
    """The exact solver cannot handle a system (for example complex eigenvalues)."""


class DataFileError(KetaclinicError):
    """A packaged data file (protocol, drug library, instrument table) is invalid: a defect
    of the installation, reported at load time, never a user's input error."""


class ConfigurationError(UserInputError):
    """A ``KETACLINIC_*`` setting has a value that is not accepted (raised at start-up)."""


class RecordNotFoundError(UnknownNameError):
    """No stored record of the named kind has the given id."""


class RefusedError(KetaclinicError):
    """A well-formed request that a rule refuses (for example restoring into a full database)."""


class StorageError(RefusedError):
    """The database cannot be used safely now; the message says why and what to do."""


class NotAllowedError(RefusedError):
    """The acting staff member may not do this (role, disabled account, or a rule such as
    "the preparer cannot double-check their own order"); the message says who may."""


class IntegrityFailureError(KetaclinicError):
    """Stored data failed verification: an edited audit row, a modified backup file, a
    failed integrity check. Never raised for bad input."""


class ThrottledError(RefusedError):
    """Too many failed sign-ins for a username or from an address; ``retry_after_s`` says
    when the next attempt is accepted."""

    def __init__(self, message: str, retry_after_s: int) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


class AuthenticationError(KetaclinicError):
    """No valid credentials: not signed in, a wrong username or password, a session that
    ended (signed out, idle, too old, user disabled). The message never says which part of a
    username and password was wrong."""
