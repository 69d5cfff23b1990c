"""Seed-compatible façades: the class and method names of the documents this project grew from
(the first users' documents), as thin documented wrappers over the real engine with correct
numbers."""
