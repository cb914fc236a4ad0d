"""`make bench`: the gateway measured against a bare nameko echo (see `run.py`)."""
