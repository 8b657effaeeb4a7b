"""The two route families: sync (`_sync.py`) and async (`_async.py`).

The only hand-written difference between them is `_async.py`; `_sync.py` is generated from it by unasyncd
(`just twin`) and CI fails when it is stale. Decorators per family live in `routing.py`.
"""
