"""digitstudy: the library behind the workflow's rule scripts (data, models, training, reports)."""


class DigitstudyError(Exception):
    """A problem with the user's input or data, reported as one line naming the file or key."""
