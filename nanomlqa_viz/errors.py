"""The one error type a user sees: a file (or config) and what is wrong with it."""

from __future__ import annotations


class DatasetError(Exception):
    """A source that cannot be used; ``str()`` is one line naming the file and the problem."""

    def __init__(self, location: str, problem: str) -> None:
        self.location = location
        self.problem = problem
        super().__init__(f"{location}: {problem}")
