"""Converters from each public dataset's published format to InstructionRecords.

The real datasets need credentials and are not shipped; each converter is tested on a small
fixture written in the published format (tests/fixtures/sources/).
"""
