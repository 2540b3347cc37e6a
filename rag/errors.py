"""The error tree. Every error a user can cause or fix is a RagError whose message is one line
that names the problem and the fix; the CLI prints it and exits with status 1.

    RagError
    ├── ConfigError        a setting is wrong or missing (names the setting)
    ├── IndexEmptyError    nothing ingested yet (run `rag ingest`)
    ├── NotFoundError      an unknown article id
    ├── InputError         an input file or record cannot be read (names the path), or a question names a
    │   │                  date that does not exist (names the date)
    │   └── FetchError     a URL cannot be fetched: bad URL, HTTP status, timeout, too large, redirect loop
    ├── ModelError         a model file is missing or corrupted, or a model cannot be loaded
    ├── BackendError       an outside service (LLM server, embedding server, Chroma server) failed
    ├── LockedError        another run holds the index lock
    └── StorageError       the index directory cannot be written (read-only, disk full)
"""


class RagError(Exception):
    """Base of every error the tool reports to a user as one line."""


class ConfigError(RagError):
    pass


class IndexEmptyError(RagError):
    pass


class NotFoundError(RagError):
    pass


class InputError(RagError):
    pass


class FetchError(InputError):
    pass


class ModelError(RagError):
    pass


class BackendError(RagError):
    pass


class LockedError(RagError):
    pass


class StorageError(RagError):
    pass
