# The deliberately failing example runs on its own (see failing/), not with this suite.
collect_ignore = ["failing"]
