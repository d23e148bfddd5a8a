import sys

from autodiff.cli import main

sys.exit(main())
