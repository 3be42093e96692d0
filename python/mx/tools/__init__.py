"""Command-line tools: python -m mx.tools.im2rec."""
