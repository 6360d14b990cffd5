"""Billing sub-commands: import, export-readings, demo-data (filled in by the billing feature)."""

from __future__ import annotations

import argparse
from typing import Any


def register(sub: Any) -> None:
    _ = argparse  # the billing feature adds: import KIND FILE, export-readings, demo-data
