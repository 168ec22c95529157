"""What the liveness tests look for in other threads: the hostile work running off the event loop."""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable
from types import CodeType, FrameType


def another_thread_runs(matches: Callable[[CodeType], bool]) -> bool:
    """Whether a thread other than the caller's has a frame whose code ``matches`` on its stack now."""
    me = threading.get_ident()
    for ident, frame in sys._current_frames().items():
        current: FrameType | None = frame if ident != me else None
        while current is not None:
            if matches(current.f_code):
                return True
            current = current.f_back
    return False
