"""The one exception type for user mistakes.

A ``ScalingLabError`` is caught once, at the CLI boundary, and printed as a single line with exit
code 2. Anything else escaping is a bug in scalinglab, not in the user's input.
"""


class ScalingLabError(ValueError):
    """A problem with the user's input, stated so they can fix it."""
