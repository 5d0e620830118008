"""The exceptions the engine raises.

Every bad input that reaches the engine ends as one of these, with enough context (file, line or index)
for a person to find the problem. Callers (the CLI, the add-on) catch ``ChoreolingoError`` and show the
message; anything else escaping is a bug.
"""


class ChoreolingoError(Exception):
    """Base class: a problem with the user's input or files, not a bug."""


class MotionFormatError(ChoreolingoError):
    """A motion file or array that cannot be read: corrupt BVH, bad shape, NaN/inf, zero frames.

    ``source`` names the file (or array) and ``location`` the line or index where it went wrong.
    """

    def __init__(self, message: str, source: str = "", location: str = ""):
        self.source = source
        self.location = location
        where = ", ".join(part for part in (source, location) if part)
        super().__init__(f"{where}: {message}" if where else message)


class SkeletonMappingError(MotionFormatError):
    """A skeleton whose joints cannot all be placed on the canonical skeleton."""

    def __init__(self, missing: list[str], source: str = "", available: list[str] | None = None):
        self.missing = list(missing)
        hint = ""
        if available is not None:
            hint = f" (joints in the file: {', '.join(available[:40])}{'...' if len(available) > 40 else ''})"
        super().__init__(
            f"cannot place canonical joints {', '.join(self.missing)}; pass a bone map{hint}", source
        )


class BundleError(ChoreolingoError):
    """A model bundle that is missing, incomplete, corrupt or of a newer format."""


class EngineInputError(ChoreolingoError):
    """A request the engine refuses: empty prompt, impossible length, unusable motion."""
