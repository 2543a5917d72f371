"""Domain logic: no HTTP and no SQL."""
