"""Instruction datasets: converters from published formats and the synthetic corpus."""
