"""The proof that the backends equal each other and the 2014 original (see conftest.py)."""
