"""One module per KIND of input: its fields, the SQL that types and validates them, its rules."""
