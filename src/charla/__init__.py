"""charla: a real-time terminal chat."""

__version__ = "0.1.0"

__all__ = ["__version__"]
