"""Reading report archives: formats, column mappings and input validation."""
