"""``python -m kullback``: the same command line as the ``kullback`` script."""

import sys

from kullback.cli import main

__all__ = ["main"]

if __name__ == "__main__":
    sys.exit(main())
