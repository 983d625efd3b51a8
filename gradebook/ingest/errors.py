"""The one error every reader raises for input it cannot use."""


class IngestError(ValueError):
    """A source that cannot be read; the message says which file and what is wrong."""
