"""One module per ``backprop`` subcommand, each with ``add_arguments(parser)`` and ``run(args)``."""
