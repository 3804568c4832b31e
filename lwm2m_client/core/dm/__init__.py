"""Data model: paths, typed values, object definitions and the object tree."""
