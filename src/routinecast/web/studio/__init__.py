"""The studio: tailor a routine in the browser, hear it, save it, send it to the phone.

The Flask-free core lives here: ``requests`` (JSON bodies -> overrides, errors -> the
422 list), ``confine`` (what the studio may read), ``variants`` (Save), ``jobs``
(builds one at a time in the background) and ``service`` (the studio's operations,
which the blueprint in ``routes`` exposes under ``/api/``).
"""
