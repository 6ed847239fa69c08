// CBLAS from Debian's libopenblas-dev (OpenBLAS's cblas.h, found through pkg-config "openblas").
#include <cblas.h>
