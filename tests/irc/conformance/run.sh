#!/usr/bin/env bash
# Runs irctest, the IRC conformance suite, against charla's IRC front-end.
# Usage: tests/irc/conformance/run.sh IRCTEST_DIR [extra pytest arguments]
# IRCTEST_DIR is a checkout of irctest; its Python needs pytest (IRCTEST_PYTHON, default
# the python3 on PATH). charla is the worktree's .venv/bin/charla unless CHARLA is set.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../../.." && pwd)"
irctest="$(cd "${1:?usage: run.sh IRCTEST_DIR [pytest args]}" && pwd)"
shift
export CHARLA="${CHARLA:-$repo/.venv/bin/charla}"
export PYTHONPATH="$here${PYTHONPATH:+:$PYTHONPATH}"
cd "$irctest"
exec "${IRCTEST_PYTHON:-python3}" -m pytest -p no:cacheprovider \
    --controller charla_controller "$@"
