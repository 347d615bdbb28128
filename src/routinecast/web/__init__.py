"""The web app: the phone page of ``routinecast share`` and the studio, one Flask app.

An edge like ``cli``: it may import any stage, but goes through the public API
(``routinecast.plan``, ``build``, ...) where it can.
"""
