"""Only for Beam's --setup_file (Dataflow ships the source as an sdist built by `python setup.py sdist`):
the package metadata lives in pyproject.toml."""
from setuptools import setup

setup()
