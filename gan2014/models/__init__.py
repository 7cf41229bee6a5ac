"""Framework-free model helpers shared by both backends (initial draws, data-dependent biases)."""
