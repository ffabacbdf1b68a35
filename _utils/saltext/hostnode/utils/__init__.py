"""hostnode's shared code: parsers, planners, validators and the managed-file writer (pure)."""
