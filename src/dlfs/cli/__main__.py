"""``python -m dlfs.cli``: the same as the ``dlfs`` command."""

import sys

from dlfs.cli import main

sys.exit(main())
