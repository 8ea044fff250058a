#!/usr/bin/env bash
# Install the system (non-Python) packages Cadenza needs, only if missing.
#
#   scripts/install_system_deps.sh            # audio: fluidsynth + GM soundfont
#   scripts/install_system_deps.sh --browser  # + chromium for the browser test, MuseScore 3 and abcmidi (the tests
#                                             #   read the MusicXML and ABC we write with readers we did not write)
#                                             #   and PostgreSQL (the library's tests run on it as well as SQLite)
#
# Debian/Ubuntu with root or passwordless sudo: `apt-get update` and
# `apt-get install -y ...` run only when a package is actually missing, so a
# second run is instant and needs no network.
# Anywhere else: print which packages to install, and carry on if what we
# need is in fact present (e.g. libfluidsynth found by the dynamic linker).
#
# Set SKIP_SYSTEM_DEPS=1 to skip this step entirely.
set -euo pipefail

AUDIO_PKGS=(fluidsynth libfluidsynth3 fluid-soundfont-gm)
BROWSER_PKGS=(chromium chromium-driver musescore3 abcmidi postgresql)

want_browser=0
for arg in "$@"; do
    case "$arg" in
        --browser) want_browser=1 ;;
        -h|--help) sed -n '2,13p' "$0"; exit 0 ;;
        *) echo "install_system_deps: unknown argument: $arg" >&2; exit 2 ;;
    esac
done

if [[ "${SKIP_SYSTEM_DEPS:-0}" == "1" ]]; then
    echo "[sysdeps] SKIP_SYSTEM_DEPS=1: not checking system packages"
    exit 0
fi

pkgs=("${AUDIO_PKGS[@]}")
if (( want_browser )); then
    pkgs+=("${BROWSER_PKGS[@]}")
fi

log() { echo "[sysdeps] $*"; }
warn() { echo "[sysdeps] WARNING: $*" >&2; }

# --- functional checks (work on any OS) -------------------------------------
have_libfluidsynth() {
    if command -v ldconfig >/dev/null 2>&1 &&
        ldconfig -p 2>/dev/null | grep -q 'libfluidsynth\.so'; then
        return 0
    fi
    # /sbin may be off PATH for normal users; also covers macOS (Homebrew).
    if [[ -x /sbin/ldconfig ]] && /sbin/ldconfig -p 2>/dev/null | grep -q 'libfluidsynth\.so'; then
        return 0
    fi
    local d
    for d in /usr/lib /usr/lib64 /usr/local/lib /usr/lib/x86_64-linux-gnu \
        /usr/lib/aarch64-linux-gnu /opt/homebrew/lib; do
        compgen -G "$d/libfluidsynth*" >/dev/null && return 0
    done
    return 1
}

have_browser() {
    command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 ||
        command -v google-chrome >/dev/null 2>&1
}

functional_ok() {
    local ok=0
    have_libfluidsynth || { warn "libfluidsynth not found by the dynamic linker"; ok=1; }
    if (( want_browser )) && ! have_browser; then
        warn "no chromium/chrome executable on PATH"
        ok=1
    fi
    return $ok
}

manual_hint() {  # $@: Debian package names to suggest
    echo "[sysdeps] Please install these system packages yourself:" >&2
    echo "[sysdeps]   Debian/Ubuntu: sudo apt-get install -y $*" >&2
    echo "[sysdeps]   Fedora:        sudo dnf install -y fluidsynth fluidsynth-libs fluid-soundfont-gm$( ((want_browser)) && echo ' chromium chromedriver')" >&2
    echo "[sysdeps]   macOS:         brew install fluid-synth$( ((want_browser)) && echo ' && brew install --cask chromium')" >&2
}

# --- Debian / Ubuntu ----------------------------------------------------------
if command -v dpkg-query >/dev/null 2>&1 && command -v apt-get >/dev/null 2>&1; then
    missing=()
    for p in "${pkgs[@]}"; do
        status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
        [[ "$status" == "install ok installed" ]] || missing+=("$p")
    done
    if (( ${#missing[@]} == 0 )); then
        log "ok: ${pkgs[*]}"
        exit 0
    fi

    SUDO=()
    if [[ "$(id -u)" -ne 0 ]]; then
        if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
            SUDO=(sudo -n)
        else
            warn "missing Debian packages: ${missing[*]} (not root and no passwordless sudo)"
            manual_hint "${missing[@]}"
            if functional_ok; then
                log "required libraries appear to be present anyway; continuing"
                exit 0
            fi
            echo "[sysdeps] ERROR: cannot continue without them (or set SKIP_SYSTEM_DEPS=1 to try anyway)" >&2
            exit 1
        fi
    fi

    log "installing missing packages: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    "${SUDO[@]}" apt-get update -qq
    "${SUDO[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
    log "done"
    exit 0
fi

# --- anything else -------------------------------------------------------------
log "not a Debian/Ubuntu system: cannot install packages automatically"
manual_hint "${pkgs[@]}"
if functional_ok; then
    log "required libraries appear to be present; continuing"
    exit 0
fi
echo "[sysdeps] ERROR: required system libraries missing (or set SKIP_SYSTEM_DEPS=1 to try anyway)" >&2
exit 1
