"""The SQL of the clinical record, one module per concept; ``SqlStore`` combines them."""
