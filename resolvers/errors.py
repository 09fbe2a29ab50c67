"""The domain errors resolvers raise; GraphQL shows their `code`, REST maps it to a status.

CytogateError
├── InvalidInput      400  BAD_USER_INPUT    bad value, broken rule, malformed request
├── Unauthenticated   401  UNAUTHENTICATED   no or bad credentials
├── Forbidden         403  FORBIDDEN         authenticated but not allowed
├── NotFound          404  NOT_FOUND         unknown id
├── Conflict          409  CONFLICT          uniqueness violated
├── TooLarge          413  PAYLOAD_TOO_LARGE an upload past its size limit
├── TooManyRequests   429  TOO_MANY_REQUESTS too many failed sign-ins, with the seconds to wait
├── NotSupported      501  NOT_SUPPORTED     routed but not provided by this server
├── BadGateway        502  BAD_GATEWAY       a backing service failed (a mail server refused)
└── Unavailable       503  UNAVAILABLE       a backing service cannot answer now (the database
                                             among them: `domain_error` turns db's own error
                                             into one), with the seconds to wait
"""

from __future__ import annotations

from typing import Any, ClassVar

from sqlalchemy.exc import DBAPIError

from db.engine import DatabaseUnavailable

__all__ = [
    "BadGateway",
    "Conflict",
    "CytogateError",
    "Forbidden",
    "InvalidInput",
    "NotFound",
    "NotSupported",
    "TooLarge",
    "TooManyRequests",
    "Unauthenticated",
    "Unavailable",
    "domain_error",
    "refused_value",
]


class CytogateError(Exception):
    """Base of every error a client may be shown as is; `retry_after`, where set, is the
    seconds after which the client may try again (`Retry-After`)."""

    code: ClassVar[str] = "INTERNAL"
    status: ClassVar[int] = 500
    retry_after: int | None = None

    def __init__(self, message: str, values: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.values = values or {}


class InvalidInput(CytogateError):
    code = "BAD_USER_INPUT"
    status = 400


class Unauthenticated(CytogateError):
    code = "UNAUTHENTICATED"
    status = 401

    def __init__(self, message: str = "Full authentication is required to access this resource"):
        super().__init__(message)


class Forbidden(CytogateError):
    code = "FORBIDDEN"
    status = 403

    def __init__(
        self,
        message: str = "You don't have the right to do this",
        values: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message, values)


class NotFound(CytogateError):
    code = "NOT_FOUND"
    status = 404

    def __init__(self, domain: str, key: object, field: str = "id") -> None:
        super().__init__(f"{domain} not found with filters : {{{field}={key}}}")


class Conflict(CytogateError):
    code = "CONFLICT"
    status = 409


class TooLarge(CytogateError):
    code = "PAYLOAD_TOO_LARGE"
    status = 413


class TooManyRequests(CytogateError):
    code = "TOO_MANY_REQUESTS"
    status = 429

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class NotSupported(CytogateError):
    code = "NOT_SUPPORTED"
    status = 501


class BadGateway(CytogateError):
    code = "BAD_GATEWAY"
    status = 502


class Unavailable(CytogateError):
    """A backing service cannot answer now.

    Args:
        retry_after: seconds after which the client may try again (`Retry-After`).
    """

    code = "UNAVAILABLE"
    status = 503

    def __init__(self, message: str, retry_after: int | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


def domain_error(error: BaseException) -> CytogateError | None:
    """The error a client is shown for `error`: itself when it is a domain error, 503 when the
    database could not serve; None for anything else (a bug)."""
    if isinstance(error, CytogateError):
        return error
    if isinstance(error, DatabaseUnavailable):
        return Unavailable(error.message, error.retry_after)
    return None


def refused_value(error: BaseException) -> InvalidInput | None:
    """The 400 for a value PostgreSQL (SQLSTATE class 22: a NUL byte, a number out of range…)
    or asyncpg (a value it cannot encode) refused; None for any other error. Where one
    operation answers for many elements (an array of annotations), the element's own answer."""
    cause = getattr(getattr(error, "orig", None), "__cause__", None)
    if not isinstance(error, DBAPIError) or cause is None:
        return None
    if str(getattr(cause, "sqlstate", "") or "").startswith("22") or isinstance(cause, ValueError):
        return InvalidInput(f"Invalid value: {str(cause).splitlines()[0][:200]}")
    return None
