"""What the app does once when it starts: take long-lived objects out of the GC's way.

(The thread pool that runs the sync family's handlers is sized at startup too: `family/runtime/threads.py`.)
"""

import gc


def freeze_startup_objects() -> None:
    """Move every object alive after startup out of the garbage collector's sight.

    The app's modules, schemas, routes and compiled statements are objects that live as long as the process;
    left in the collected generations, every full collection would walk them all, pausing every request.
    """
    gc.collect()
    gc.freeze()
