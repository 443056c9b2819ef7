"""Development tools: the local sandboxes launcher and the demo (`loa sandbox`, `loa demo`)."""
