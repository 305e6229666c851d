"""Exercise solutions of the notebook series: one module per notebook (imported as `solutions.<name>`)."""
