"""The web side: one Flask app that serves an output folder to a phone on the same Wi-Fi.

``app.create_app`` assembles it: ``guard`` (the secret path, the Host check, the headers
and the log redaction, for every blueprint), ``share`` (the page, the feed, the files),
``catalog`` (the output folder read into frozen data), ``handout`` (the printed sheet's
contents), ``feed`` (RSS and Podcasting 2.0 chapters, pure), ``artwork`` and ``server``
(the address, the threaded library server and its quiet request log). ``studio`` is the
studio (``routinecast studio``): its page and JSON API mounted on the same app at the root.
"""
