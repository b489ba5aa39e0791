"""Tests of astrobio.store (mirrors src/astrobio/store)."""
