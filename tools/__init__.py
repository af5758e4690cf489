"""Command-line tools for using the function app (locally or deployed); never deployed."""
