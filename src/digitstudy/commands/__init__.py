"""The commands a study's user runs in its folder (pyproject.toml installs them as digitstudy-*)."""
