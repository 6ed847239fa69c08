#ifndef CMALLOCCOUNTER_H
#define CMALLOCCOUNTER_H

/// Heap allocations (malloc, calloc, realloc, posix_memalign, aligned_alloc, memalign) made
/// by any thread of this process since it started, or -1 where the counter is unavailable
/// (it interposes glibc's allocator entry points, so only on Linux with glibc).
long long descent_malloc_count(void);

#endif
