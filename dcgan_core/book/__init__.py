"""The book: chapter parameters (paper values as defaults, profiles override), the make pipeline,
the results / wall-time / bench pages and the book check."""
