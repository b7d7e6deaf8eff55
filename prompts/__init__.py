"""Data only: the tag vocabulary, phrase banks, LLM prompts, cover styles.

This package holds no code. It is a package so that its files load the same way from
a checkout and from an installed wheel (``creator.resources.prompt_path``).
"""
