// oneDNN's C API (Debian libdnnl-dev 2.6, built with the OpenMP CPU runtime) plus the two OpenMP
// calls that pin its thread count. Debian's oneDNN links libgomp; omp.h is a compiler header that
// Swift's clang does not ship for GCC's runtime, so the two prototypes are declared here.
#include <dnnl.h>

/// Sets the OpenMP team size of parallel regions started from the calling thread (libgomp).
void omp_set_num_threads(int n);
/// The team size the next parallel region started from the calling thread would use.
int omp_get_max_threads(void);
