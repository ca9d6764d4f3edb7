"""The project's own error types."""


class ParameterError(ValueError):
    """A notebook, profile or launch parameter is invalid; raised before any compute."""
