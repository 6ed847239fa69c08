// An allocation counter for `descent bench`, loaded only by `LD_PRELOAD` (see the header).
//
// It defines the allocator's entry points, counts each allocation with one relaxed atomic
// increment and forwards to the next definition in the lookup order (`dlsym(RTLD_NEXT, …)`,
// normally glibc's). `free` is interposed as well, so that the few blocks handed out from a
// static arena while `dlsym` itself allocates (before the forwards are resolved) are never passed
// to the real allocator.
//
// Built with a sanitizer (whose runtime owns the allocator) it interposes nothing.
#define _GNU_SOURCE
#include "DescentMallocCounter.h"

#if defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer) || __has_feature(memory_sanitizer)
#define DESCENT_SANITIZED 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define DESCENT_SANITIZED 1
#endif

#if defined(__linux__) && !defined(DESCENT_SANITIZED)
#include <dlfcn.h>
#include <errno.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

static _Atomic long long allocations;

static void *(*next_malloc)(size_t);
static void *(*next_calloc)(size_t, size_t);
static void *(*next_realloc)(void *, size_t);
static void (*next_free)(void *);
static int (*next_posix_memalign)(void **, size_t, size_t);
static void *(*next_aligned_alloc)(size_t, size_t);
static void *(*next_memalign)(size_t, size_t);
static void *(*next_valloc)(size_t);

// The arena for allocations made while the forwards are being resolved (dlsym may call calloc).
static _Alignas(16) unsigned char arena[16384];
static _Atomic size_t arenaUsed;
static _Atomic int resolving;

static int inArena(const void *p) {
    return (const unsigned char *)p >= arena && (const unsigned char *)p < arena + sizeof arena;
}

static void *arenaAllocate(size_t size) {
    size_t rounded = (size + 15) & ~(size_t)15;
    size_t offset = atomic_fetch_add(&arenaUsed, rounded);
    if (offset + rounded > sizeof arena) return NULL;
    return arena + offset;
}

static void resolve(void) {
    if (next_free != NULL) return;
    atomic_store(&resolving, 1);
    next_malloc = (void *(*)(size_t))dlsym(RTLD_NEXT, "malloc");
    next_calloc = (void *(*)(size_t, size_t))dlsym(RTLD_NEXT, "calloc");
    next_realloc = (void *(*)(void *, size_t))dlsym(RTLD_NEXT, "realloc");
    next_posix_memalign = (int (*)(void **, size_t, size_t))dlsym(RTLD_NEXT, "posix_memalign");
    next_aligned_alloc = (void *(*)(size_t, size_t))dlsym(RTLD_NEXT, "aligned_alloc");
    next_memalign = (void *(*)(size_t, size_t))dlsym(RTLD_NEXT, "memalign");
    next_valloc = (void *(*)(size_t))dlsym(RTLD_NEXT, "valloc");
    next_free = (void (*)(void *))dlsym(RTLD_NEXT, "free");
    atomic_store(&resolving, 0);
}

static inline void count(void) { atomic_fetch_add_explicit(&allocations, 1, memory_order_relaxed); }

long long descent_malloc_count(void) { return atomic_load_explicit(&allocations, memory_order_relaxed); }

void *malloc(size_t size) {
    if (atomic_load(&resolving)) return arenaAllocate(size);
    resolve();
    count();
    return next_malloc(size);
}

void *calloc(size_t n, size_t size) {
    if (atomic_load(&resolving)) {
        if (size != 0 && n > SIZE_MAX / size) return NULL;
        return arenaAllocate(n * size);  // static storage: already zero
    }
    resolve();
    count();
    return next_calloc(n, size);
}

void *realloc(void *pointer, size_t size) {
    if (atomic_load(&resolving)) return arenaAllocate(size);
    resolve();
    count();
    if (inArena(pointer)) {
        void *moved = next_malloc(size);
        if (moved != NULL) {
            size_t available = (size_t)(arena + sizeof arena - (unsigned char *)pointer);
            memcpy(moved, pointer, size < available ? size : available);
        }
        return moved;
    }
    return next_realloc(pointer, size);
}

void free(void *pointer) {
    if (pointer == NULL || inArena(pointer)) return;
    resolve();
    next_free(pointer);
}

int posix_memalign(void **result, size_t alignment, size_t size) {
    resolve();
    count();
    return next_posix_memalign(result, alignment, size);
}

void *aligned_alloc(size_t alignment, size_t size) {
    resolve();
    count();
    return next_aligned_alloc(alignment, size);
}

void *memalign(size_t alignment, size_t size) {
    resolve();
    count();
    return next_memalign(alignment, size);
}

void *valloc(size_t size) {
    resolve();
    count();
    return next_valloc(size);
}
#else
long long descent_malloc_count(void) { return -1; }
#endif
