#!/usr/bin/env bash
# Gradescope runs this once, as root, when it builds the autograder image (Ubuntu).
# It installs Python if needed, a virtual environment with the pinned grading dependencies
# (requirements.txt) and the kit's wheel, and makes the grading data (course/) readable by root only.
#
# Test-only settings (the kit's replay test sets them; Gradescope never does):
#   OPTKIT_GRADESCOPE_ROOT  the folder laid out as /autograder (default /autograder)
#   OPTKIT_PYTHON           the interpreter that creates the venv (default python3)
#   OPTKIT_VENV_OPTIONS     extra options of `python -m venv`, e.g. --system-site-packages
#   OPTKIT_PIP_OPTIONS      extra options of `pip install`, e.g. --no-index
set -euo pipefail
ROOT="${OPTKIT_GRADESCOPE_ROOT:-/autograder}"
SOURCE="$ROOT/source"
PYTHON="${OPTKIT_PYTHON:-python3}"

# shellcheck disable=SC2086  # the option variables hold several words on purpose
if ! "$PYTHON" -m venv ${OPTKIT_VENV_OPTIONS:-} "$ROOT/venv"; then  # no python3, or no venv/ensurepip
    apt-get update
    DEBIAN_FRONTEND=noninteractive apt-get install -y python3 python3-venv python3-pip
    rm -rf "$ROOT/venv"
    "$PYTHON" -m venv ${OPTKIT_VENV_OPTIONS:-} "$ROOT/venv"
fi
# shellcheck disable=SC2086
"$ROOT/venv/bin/python" -m pip install --disable-pip-version-check --quiet ${OPTKIT_PIP_OPTIONS:-} \
    -r "$SOURCE/requirements.txt"
# shellcheck disable=SC2086
"$ROOT/venv/bin/python" -m pip install --disable-pip-version-check --quiet ${OPTKIT_PIP_OPTIONS:-} --no-deps \
    "$SOURCE"/*.whl

# The master notebook (reference solutions) and the hidden tests: root only.
chown -R 0:0 "$SOURCE/course"
find "$SOURCE/course" -type d -exec chmod 700 {} +
find "$SOURCE/course" -type f -exec chmod 600 {} +
chmod 755 "$SOURCE/run_autograder"
echo "optkit: autograder installed in $ROOT/venv"
