"""``python -m engine.train``: the entry point of the training command line (engine/cli/train.py)."""

import sys

from engine.cli.train import main

if __name__ == "__main__":
    sys.exit(main())
