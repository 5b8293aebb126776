"""Pure rules of the forum: no I/O, no imports from the rest of `forum`."""
