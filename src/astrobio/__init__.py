"""astrobio: one package, one trainer, one config system and one CLI for every astrobiology model."""

__version__ = "0.1.0"
