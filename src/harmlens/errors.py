"""One exception hierarchy; the CLI turns any HarmlensError into one line and exit code 1."""

from __future__ import annotations


class HarmlensError(Exception):
    """Base of every error harmlens raises on purpose (bad input, missing table, ...)."""


class ContractError(HarmlensError):
    """Input does not follow the data contract in a way that stops the whole load."""


class UnparseableFileError(ContractError):
    """A file cannot be parsed at all; the message names the file and position."""


class WarehouseError(HarmlensError):
    """The warehouse is missing, locked, or lacks a table a stage needs."""


class MissingExtraError(HarmlensError):
    """An optional part was used without its extra installed."""

    def __init__(self, extra: str, module: str) -> None:
        super().__init__(f"this needs the '{extra}' extra ({module} is not installed): pip install 'harmlens[{extra}]'")
