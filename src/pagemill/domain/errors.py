"""Domain errors: semantic kinds with no HTTP knowledge.

    PagemillError
    ├── NotFound              the thing does not exist for this team (never "forbidden")
    ├── Unauthenticated       no key, unknown key, revoked or expired key
    ├── Forbidden             a member of the team, but not allowed to do this (role, CSRF)
    ├── RateLimited           over the caller's request budget; ``retry_after`` seconds
    ├── InvalidInput          a request the domain rules refuse (bad page range, bad composition…)
    │   └── UnsupportedProcessor   a step type this server cannot run
    ├── Conflict              the request clashes with current state (no published version…)
    │   └── IdempotencyMismatch    an Idempotency-Key reused for a different request
    ├── Gone                  it existed, but its retention ran out (results, checkpoints)
    ├── PayloadTooLarge       an upload or download over the size cap
    │   └── StorageQuotaExceeded   it does not fit in the team's storage quota
    ├── UnsupportedMediaType  a document this server cannot convert (a converter is missing)
    ├── UpstreamUnavailable   a file_url that could not be fetched
    └── ServiceUnavailable    a backing service (ledger, live store) is down
        └── InsufficientStorage   the blob store is full (disk or quota of the file system)

The API maps each kind to a status in one table (``pagemill.api.errors``).
"""

from __future__ import annotations


class PagemillError(Exception):
    """Base of every error pagemill raises on purpose."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class NotFound(PagemillError):
    pass


class Unauthenticated(PagemillError):
    pass


class Forbidden(PagemillError):
    """The caller belongs to the team but may not do this; other teams' things are NotFound."""


class RateLimited(PagemillError):
    def __init__(self, detail: str, retry_after: int) -> None:
        super().__init__(detail)
        self.retry_after = retry_after


class InvalidInput(PagemillError):
    pass


class UnsupportedProcessor(InvalidInput):
    pass


class Conflict(PagemillError):
    pass


class IdempotencyMismatch(Conflict):
    """The key was used before, for a request with other content: never a new execution."""


class Gone(PagemillError):
    """It existed and was removed on purpose (retention ran out); the detail says when."""


class PayloadTooLarge(PagemillError):
    pass


class StorageQuotaExceeded(PayloadTooLarge):
    pass


class UnsupportedMediaType(PagemillError):
    pass


class UpstreamUnavailable(PagemillError):
    pass


class ServiceUnavailable(PagemillError):
    pass


class InsufficientStorage(ServiceUnavailable):
    pass


class ProcessingError(Exception):
    """Raised by a processor: the document cannot be processed as asked.

    ``retryable`` says whether another attempt could succeed (a crashed worker process) or not
    (a corrupt PDF). The engine turns it into a failed or requeued step, never a dead worker.
    """

    def __init__(self, message: str, *, retryable: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.retryable = retryable
