"""Allow ``python -m promptfill`` (and ``accelerate launch -m promptfill``)."""

from .cli import main

main()
