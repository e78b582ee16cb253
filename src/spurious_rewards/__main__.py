"""`python -m spurious_rewards <stage> ...`: the one entry point of every rule and DVC stage."""

import sys

from spurious_rewards.cli import main

if __name__ == "__main__":
    sys.exit(main())
