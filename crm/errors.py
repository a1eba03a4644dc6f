class AppError(Exception):
    """A business rule refused the action; the message is shown to the user as is."""


class ConflictError(AppError):
    """An optimistic-locking conflict: the record changed since the user loaded it."""

    def __init__(self, message: str, **extra: object) -> None:
        super().__init__(message)
        self.extra = extra
