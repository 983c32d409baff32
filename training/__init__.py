"""Training subsystem: datasets, LoRA tuning, export, evaluation and routing."""
