"""Other programs' output, for the modules that ask them (git for the version record; sinfo, scontrol,
squeue, sacctmgr for the Slurm checks)."""

import subprocess


def run_command(command):
    """stdout of `command`, or None when it is missing or fails (a site without accounting)."""
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout if done.returncode == 0 else None
