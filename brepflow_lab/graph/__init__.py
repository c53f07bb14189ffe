"""The graph layer: model, file I/O, validation, algorithms and expressions (no OCP, no Jupyter)."""
