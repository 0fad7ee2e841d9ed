"""Tests of the reference Rails venue: "spec N.N" here is section N.N of
``docs/venues/rails.md``."""
