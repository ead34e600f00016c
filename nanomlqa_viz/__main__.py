"""Entry point: ``python -m nanomlqa_viz``."""

import sys

from nanomlqa_viz.cli import main

sys.exit(main())
