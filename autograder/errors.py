"""The exceptions nngrade's library code raises for problems a user can fix.

Library modules raise these, never ``click`` exceptions; ``autograder.cli`` turns any
:class:`NngradeError` into a clean ``Error: <message>`` and exit code 1, in one place. Each
message is written for the person at the command line: it names the file and what is wrong.
"""

from __future__ import annotations

__all__ = ["NngradeError", "BuildError", "ConfigError", "MistakeError", "ProblemSetNotFound"]


class NngradeError(Exception):
    """Base of every error nngrade reports to its user instead of a traceback."""


class BuildError(NngradeError):
    """A problem set could not be built, or its student release would leak something."""


class ProblemSetNotFound(NngradeError):
    """A problem set was asked for by name and there is no ``solutions/<name>/<name>.py``."""


class ConfigError(NngradeError):
    """The checkout or a problem set's settings are wrong (``$NNGRADE_ROOT``, grading.yaml)."""


class MistakeError(NngradeError, ValueError):
    """A ``mistakes.yaml`` or ``alternatives.yaml`` entry is malformed or no longer applies."""
