"""``python -m engine.data``: the entry point of the cache builder (engine/cli/data.py)."""

import sys

from engine.cli.data import main

if __name__ == "__main__":
    sys.exit(main())
