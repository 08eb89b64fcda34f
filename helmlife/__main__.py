"""`python -m helmlife COMMAND`: see helmlife.cli."""
from .cli import main

raise SystemExit(main())
