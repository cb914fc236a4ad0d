"""The one registry of online requests: its types (`types`), the hook contract they
answer (`hooks`), the one lifecycle (`lifecycle`), the operations and views
(`registry`), the results of its own automatic types (`results`), the worker that
produces them (`worker`) and the catalogue of types (`catalogue`).

It may use `services.documents.files` (a reply names the member's documents); files
never import it.
"""
