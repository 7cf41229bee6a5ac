"""Aesara's compile cache, read faster: fused elementwise ops keep their generated C code when
they are pickled into the cache.

Every process that compiles its first Aesara function reads the key (`key.pkl`) of every module
in the compile cache. A key holds the ops of the module, and a fused elementwise op (`Composite`)
is hashed and compared by its generated C code, which Aesara 2.9's `Composite.__getstate__`
drops; so each key read rebuilds the C code of each of its fused ops from a fresh graph, and that
is most of the time the read takes. Aesara's own comment in `Composite.__hash__` says the C code
is meant to survive pickling (Theano kept it); keeping it changes no op, hash or comparison (the
code is what a rebuild would give under the same flags, and the cache is this project's own,
under one set of flags), only when it is computed. Keys written before this still load: their
ops rebuild the code as before.
"""

_PATCHED = "_gan2014_keeps_c_code"


def keep_composite_c_code():
    """Make Composite pickles carry `_c_code` when it has been generated (once per process)."""
    from aesara.scalar.basic import Composite

    if getattr(Composite, _PATCHED, False):
        return
    drop_caches = Composite.__getstate__

    def __getstate__(self):
        state = drop_caches(self)
        if "_c_code" in self.__dict__:
            state["_c_code"] = self.__dict__["_c_code"]
        return state

    Composite.__getstate__ = __getstate__
    setattr(Composite, _PATCHED, True)
