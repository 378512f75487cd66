"""Memory settings of the local runner's processes.

glibc gives each thread that allocates a memory arena of its own (up to 8 per core). The Fn API moves
every element through gRPC threads, and their arenas keep freed memory fragmented: on a 5,000-page dump
the driver held 590 MB with 2 arenas allowed per process 400 MB, for the same data.
"""
import ctypes
import ctypes.util

M_ARENA_MAX = -8  # mallopt's parameter number, from glibc's malloc.h
ARENAS = 2


def limit_malloc_arenas(arenas: int = ARENAS) -> None:
    """Allow this process at most `arenas` glibc malloc arenas from now on; nothing off glibc."""
    name = ctypes.util.find_library("c")
    try:
        mallopt = ctypes.CDLL(name).mallopt
    except (OSError, AttributeError, TypeError):  # not glibc (macOS, musl) or no C library found
        return
    mallopt(M_ARENA_MAX, arenas)
