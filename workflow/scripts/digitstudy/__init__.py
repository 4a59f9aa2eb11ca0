"""digitstudy: the library behind the workflow's rule scripts (data, models, training, reports)."""

__version__ = "4.0.0"  # CHANGELOG.md says what each version changed


class DigitstudyError(Exception):
    """A problem with the user's input or data, reported as one line naming the file or key."""


# Imported first by every rule script: from here on, Ctrl-C ends a starting job in one line, not a
# traceback (scripting.quiet_stop_while_starting; it does nothing outside a rule script's process).
from .scripting import quiet_stop_while_starting  # noqa: E402 (needs DigitstudyError, above)


quiet_stop_while_starting()
