"""The one exception type for bad input from a user."""


class UserError(ValueError):
    """Bad input: a missing or corrupted file, an unknown name, a value out of range.

    Everything a user can set raises it, before long work starts. Its message is one
    sentence that says what is wrong and how to fix it. The CLI prints it without a
    traceback; notebooks show it as the last line. It is a ValueError, so code that
    catches bad values the standard way catches it too.
    """
