"""Errors the jobs report to the user (exit code 2) as opposed to bugs (exit code 1)."""


class OffloadError(Exception):
    """A refusal or a detected problem with a stable code, e.g. ``lineage_mismatch``."""

    def __init__(self, code: str, message: str, **details):
        super().__init__(message)
        self.code = code
        self.details = details

    def as_dict(self) -> dict:
        return {"code": self.code, "message": str(self), **self.details}
