"""The timing stage, pure: routine + clip lengths -> timeline.

``script`` decides what is said and when it is due, ``compiler`` lays it out in integer
milliseconds, ``fit`` solves the scale that lands a routine on a target length. Imports
no numpy.
"""
