"""One blueprint per concern; function_app.py registers them."""
