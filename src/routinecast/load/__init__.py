"""The load stage: a routine file -> a validated, frozen ``Routine``.

YAML with lines (``yamlsrc``) -> documents -> fields -> the exercise library -> steps ->
the routine merge (``routine``); ``overrides`` adjusts a loaded routine and ``schema``
describes the format. Knows nothing of audio.
"""
