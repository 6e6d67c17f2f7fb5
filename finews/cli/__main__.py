import sys

from finews.cli import main

sys.exit(main())
