// Elementwise kernels for the hot loops of training: activations and the Adam update.
//
// Why C: written as plain loops and compiled with -O3 -mavx2 -mfma -fveclib=libmvec, clang turns
// expf/logf into glibc's libmvec 8-wide AVX2 calls (_ZGVdN8v_expf, ...). Swift's scalar expf costs
// several ns per element, which would dominate an MLP step next to OpenBLAS's GEMMs. The maths is
// glibc's; this file only arranges the loops. Each kernel works on a contiguous range so callers
// can split work across threads.
#ifndef CKERNELS_H
#define CKERNELS_H

#include <stddef.h>

/// y = softplus(x) = max(x, 0) + log(1 + exp(-|x|)); if dydx is not NULL it receives sigmoid(x).
void ck_softplus_f32(const float *x, float *y, float *dydx, long n);
void ck_softplus_f64(const double *x, double *y, double *dydx, long n);
/// y = sigmoid(x).
void ck_sigmoid_f32(const float *x, float *y, long n);
void ck_sigmoid_f64(const double *x, double *y, long n);
/// y = x * sigmoid(x) (SiLU); dydx = sigmoid(x) * (1 + x * (1 - sigmoid(x))) when not NULL.
void ck_silu_f32(const float *x, float *y, float *dydx, long n);
void ck_silu_f64(const double *x, double *y, double *dydx, long n);
/// y = x > 0 ? x : exp(x) - 1 (ELU, alpha = 1); dydx = x > 0 ? 1 : exp(x) when not NULL.
void ck_elu_f32(const float *x, float *y, float *dydx, long n);
void ck_elu_f64(const double *x, double *y, double *dydx, long n);

/// One Adam step on n parameters (Kingma & Ba 2015, Alg. 1; AMSGrad of Reddi et al. 2018 when
/// vmax is not NULL). stepSize = lr / (1 - beta1^t) and vScale = 1 / (1 - beta2^t) carry the
/// bias corrections, so the update is p -= stepSize * m / (sqrt(vhat * vScale) + eps).
void ck_adam_f32(float *p, const float *g, float *m, float *v, float *vmax, long n,
                 float beta1, float beta2, float eps, float stepSize, float vScale);
void ck_adam_f64(double *p, const double *g, double *m, double *v, double *vmax, long n,
                 double beta1, double beta2, double eps, double stepSize, double vScale);

/// EMA of weights: shadow = decay * shadow + (1 - decay) * p.
void ck_ema_f32(float *shadow, const float *p, long n, float decay);
void ck_ema_f64(double *shadow, const double *p, long n, double decay);

/// GroupNorm of one example in oneDNN's channel-blocked layout (issue 32): x, y, dy, dx are
/// [c/block][hw][block] (block 8 or 16, dividing c), gamma [c], `groups` groups of c/groups
/// channels. Sums in double: per channel over the pixels in order (the lanes of a block side by
/// side), then over a group's channels in order; no FMA contraction, so the bits are those of
/// the same loops written in Swift. Forward: y = gamma·(x − μ)·r + beta, writing μ and
/// r = 1/sqrt(var + eps) per group into mean[groups], rstd[groups]. Backward (after the
/// forward's mean and rstd): dx = r·(gamma·dy − Σdx̂/n − x̂·Σ(dx̂·x̂)/n), x̂ = (x − μ)·r, and
/// per channel sum_dy[c] = Σdy, sum_dy_xhat[c] = Σdy·x̂ (for the parameter gradients).
/// Return 0, or −1 when block is not 8 or 16 or does not divide c (nothing written).
int ck_groupnorm_blocked_forward_f32(const float *x, float *y, const float *gamma, const float *beta,
                                     long c, long hw, long groups, long block, double eps, double *mean, double *rstd);
int ck_groupnorm_blocked_backward_f32(const float *x, const float *dy, float *dx, const float *gamma,
                                      long c, long hw, long groups, long block, const double *mean, const double *rstd,
                                      double *sum_dy, double *sum_dy_xhat);

/// Atomically adds `value` to *total (relaxed): the benchmarks' per-kind layer timings, booked
/// from every worker thread of a piece-parallel forward.
void ck_atomic_add_u64(unsigned long long *total, unsigned long long value);

#endif
