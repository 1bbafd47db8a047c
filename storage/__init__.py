"""SQL storage and the use cases that combine it with the scheduling core."""
