"""CVI Studio benchmarks: `python -m benchmarks [section ...] [--quick]` (`make bench`)."""

__all__: list[str] = []
