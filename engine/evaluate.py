"""``python -m engine.evaluate``: the entry point of the evaluate command line (engine/cli/evaluate.py)."""

import sys

from engine.cli.evaluate import main

if __name__ == "__main__":
    sys.exit(main())
