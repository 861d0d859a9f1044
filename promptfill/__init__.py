"""promptfill: prompt optimization by infilling [MASK] holes with masked diffusion LMs."""

from ._version import __version__

__all__ = ["__version__"]
