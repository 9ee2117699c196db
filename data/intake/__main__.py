import sys

from data.intake.cli import main

sys.exit(main())
