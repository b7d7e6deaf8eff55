"""Generation stages, one folder each: caption/, soundtrack/, cover/, video/.

Each stage is one ``Pipeline`` class whose ``__call__(request) -> Output`` reads top
to bottom. Heavy libraries are imported inside the backend that needs them.
"""
