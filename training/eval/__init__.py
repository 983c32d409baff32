"""Evaluation with the paper's metrics and statistics, through the pipeline's own task registry."""
