"""`python -m digitsum_gui [FOLDER]`: the same as `digitsum-gui`."""

import sys

from digitsum_gui.app import main

sys.exit(main())
