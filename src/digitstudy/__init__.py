"""digitstudy: the library behind the workflow's rule scripts (data, models, training, reports).
Importing it changes nothing in the process: a rule script installs its stop handler itself
(scripting.job_started)."""

__version__ = "5.2.0"  # CHANGELOG.md says what each version changed
