"""The one error class of digitstudy's own: a problem with the user's input or data."""


class DigitstudyError(Exception):
    """A problem with the user's input or data, reported as one line naming the file or key."""
