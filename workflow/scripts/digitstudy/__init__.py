"""digitstudy: the library behind the workflow's rule scripts (data, models, training, reports)."""

__version__ = "3.0.0"  # CHANGELOG.md says what each version changed


class DigitstudyError(Exception):
    """A problem with the user's input or data, reported as one line naming the file or key."""
