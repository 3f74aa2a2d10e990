"""glopt: support-vector learning with a generalized (pattern-correlated) loss."""
__version__ = "0.1.0"
