// LAPACKE from Debian's liblapacke-dev (found through pkg-config "lapacke").
// Only the real single- and double-precision routines are used; the plain header imports them.
#include <lapacke.h>
