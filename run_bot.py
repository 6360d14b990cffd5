#!/usr/bin/env python3
"""Kabinet's one entry point: python run_bot.py [COMMAND]  (run is the default)."""

import sys

from bot.cli import main

if __name__ == "__main__":
    sys.exit(main())
