// OpenBLAS's CBLAS interface plus its thread-count extensions (openblas_set_num_threads).
#include <cblas.h>
