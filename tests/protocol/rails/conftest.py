"""Tests of the Rails protocol package: "spec N.N" here is section N.N of
``docs/venues/rails.md``."""
