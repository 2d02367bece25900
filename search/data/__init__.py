"""Data tables of the analysis chain (word lists), loaded with importlib.resources."""
