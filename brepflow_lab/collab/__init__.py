"""Live collaboration on graphs: the shared document (:mod:`brepflow_lab.collab.ydoc`).

``jupyter_ydoc`` is imported here, before :mod:`.ydoc` can be: its package ``__init__`` loads
every ``jupyter_ydoc`` entry point, ours included, at import time. Were ``.ydoc`` imported
first, that load would find it half-initialised (no ``YGraph`` yet) and fail; importing the
package first lets the entry point load ``.ydoc`` completely, whichever side starts.
"""

import jupyter_ydoc  # noqa: F401  (import order matters: see above)
