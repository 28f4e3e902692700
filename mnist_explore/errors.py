"""The one exception type for bad input from a user."""


class UserError(Exception):
    """Bad input: a missing or corrupted file, an unknown name, a value out of range.

    Its message is one sentence that says what is wrong and how to fix it. The
    CLI prints it without a traceback; notebooks show it as the last line.
    """
