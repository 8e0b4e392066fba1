"""The Statehouse command-line interface: ``python -m statehouse.cli --help``."""

from .main import build_parser, main

__all__ = ["build_parser", "main"]
