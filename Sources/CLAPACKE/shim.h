// LAPACKE (C interface to LAPACK): symmetric eigensolver (?syev/?syevd) and Cholesky (?potrf).
#include <lapacke.h>
