import sys

from palette.generate import main

sys.exit(main())
