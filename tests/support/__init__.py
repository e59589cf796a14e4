"""What the tests and the benchmarks (`python -m bench.<name>`) share to run the project for
real: free ports, server processes, and the HTTP calls staff and integrations make."""

from pathlib import Path

# Where manage.py is: every process starts here.
ROOT = Path(__file__).resolve().parents[2]
