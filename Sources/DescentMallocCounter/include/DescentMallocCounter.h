#ifndef DESCENT_MALLOC_COUNTER_H
#define DESCENT_MALLOC_COUNTER_H

/// Heap allocations (malloc, calloc, realloc, posix_memalign, aligned_alloc, memalign, valloc)
/// made by any thread of the process since the library was loaded.
///
/// The library is a shared object that `descent bench` preloads (`LD_PRELOAD`) into its own
/// re-executed process; nothing links it, so no other command replaces the allocator. Built
/// under AddressSanitizer or ThreadSanitizer it interposes nothing and returns -1.
long long descent_malloc_count(void);

#endif
