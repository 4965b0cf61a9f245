"""``python -m album``: the same as the ``album`` command."""

import sys

from album.cli import console

sys.exit(console())
