"""The one error type mitkit raises for bad input."""


class MitkitError(ValueError):
    """Bad input to a public mitkit function; the message names the parameter, its value and the rule."""
