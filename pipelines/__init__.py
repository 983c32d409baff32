"""Apache Beam graphs that wire the radlite library into batch pipelines."""
