"""Seed-compatible façades: the class and method names of the documents this project grew from
(``../shared/seeds/``), as thin documented wrappers over the real engine with correct numbers."""
