"""``python -m engine.generate``: the entry point of the generate command line (engine/cli/generate.py)."""

import sys

from engine.cli.generate import main

if __name__ == "__main__":
    sys.exit(main())
