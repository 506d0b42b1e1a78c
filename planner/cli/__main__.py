"""``python -m planner.cli``: the command line."""

import sys

from planner.cli import main

sys.exit(main())
