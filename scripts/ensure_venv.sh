#!/usr/bin/env bash
# Create / refresh the project virtualenv (.venv) from requirements.txt.
#
# Idempotent: does nothing when .venv/.installed-stamp is newer than
# requirements.txt (pass --force to reinstall anyway).  torch is installed
# first, on its own, with the exact pin from requirements.txt, so pip picks the
# local CPU wheel (find-links) instead of pulling the multi-GB CUDA build; the
# rest of requirements.txt then finds torch already satisfied.
#
# Environment:
#   VENV=.venv            where to put the virtualenv
#   PYTHON=python3.11     interpreter used to create it (default: python3.11,
#                         else python3)
#   TORCH_SPEC=...        override the torch requirement installed first, e.g.
#                         a CUDA build on a GPU machine:
#                         TORCH_SPEC="torch==2.13.0 --index-url https://download.pytorch.org/whl/cu128"
set -euo pipefail
cd "$(dirname "$0")/.."

VENV=${VENV:-.venv}
REQ=${REQ:-requirements.txt}
STAMP="$VENV/.installed-stamp"
export PIP_DISABLE_PIP_VERSION_CHECK=1

log() { echo "[venv] $*"; }

force=0
[[ "${1:-}" == "--force" ]] && force=1

if (( !force )) && [[ -f "$STAMP" && "$STAMP" -nt "$REQ" && -x "$VENV/bin/python" ]]; then
    log "up to date ($STAMP)"
    exit 0
fi

# --- interpreter ---------------------------------------------------------------
if [[ -z "${PYTHON:-}" ]]; then
    if command -v python3.11 >/dev/null 2>&1; then PYTHON=python3.11; else PYTHON=python3; fi
fi
command -v "$PYTHON" >/dev/null 2>&1 || { echo "[venv] ERROR: $PYTHON not found; install Python 3.11" >&2; exit 1; }

# --- (re)create the venv if missing or broken ----------------------------------
if ! "$VENV/bin/python" -c 'import sys' >/dev/null 2>&1; then
    [[ -e "$VENV" ]] && { log "removing broken $VENV"; rm -rf "$VENV"; }
    log "creating $VENV with $("$PYTHON" --version 2>&1) ($PYTHON)"
    if ! "$PYTHON" -m venv "$VENV"; then
        echo "[venv] ERROR: '$PYTHON -m venv' failed (on Debian/Ubuntu: apt-get install python3-venv)" >&2
        rm -rf "$VENV"
        exit 1
    fi
fi

pyver=$("$VENV/bin/python" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
[[ "$pyver" == "3.11" ]] || log "note: venv uses Python $pyver; the project is developed and tested on 3.11"

# --- install -------------------------------------------------------------------
rm -f "$STAMP"
if [[ -z "${TORCH_SPEC:-}" ]]; then
    TORCH_SPEC=$(grep -E '^[[:space:]]*torch[[:space:]]*[=<>~!]' "$REQ" | head -n1 | sed 's/#.*//; s/[[:space:]]//g')
    [[ -n "$TORCH_SPEC" ]] || { echo "[venv] ERROR: no torch pin in $REQ" >&2; exit 1; }
fi

log "installing $TORCH_SPEC (first, on its own)"
# shellcheck disable=SC2086  # TORCH_SPEC may carry extra pip options on purpose
"$VENV/bin/python" -m pip install $TORCH_SPEC

log "installing -r $REQ"
"$VENV/bin/python" -m pip install -r "$REQ"

# Smoke test: the heavy imports must work before we declare success.
"$VENV/bin/python" - <<'PY'
import torch, numpy, gradio, pretty_midi, music21  # noqa: F401
print(f"[venv] ok: python {__import__('sys').version.split()[0]}, torch {torch.__version__} "
      f"(cuda available: {torch.cuda.is_available()}), gradio {gradio.__version__}, numpy {numpy.__version__}")
PY

touch "$STAMP"
log "stamp written: $STAMP"
