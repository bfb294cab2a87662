"""harmlens: accountable analytics for police teams tackling violence against women and girls."""

__version__ = "0.1.0"
