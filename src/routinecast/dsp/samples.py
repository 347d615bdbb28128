"""The one audio buffer type every stage passes around: float32 mono samples.

Modules on the paths that must start without numpy (``plan``, ``validate``, ``list``)
import it under ``TYPE_CHECKING`` only; everything else imports it plainly.
"""

from __future__ import annotations

from typing import TypeAlias

import numpy as np
import numpy.typing as npt

Samples: TypeAlias = npt.NDArray[np.float32]
