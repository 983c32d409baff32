"""Rule extractors: values a report states, read off its text with their spans (see answers.py)."""
