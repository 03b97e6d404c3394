#include "ckernels.h"
#include <math.h>

// One body per kernel, instantiated for float and double. EXP/LOG pick expf/exp and logf/log so
// clang can map each to its libmvec vector variant.
#define DEFINE_KERNELS(T, SUF, EXP, LOG)                                                         \
  void ck_softplus_##SUF(const T *x, T *y, T *dydx, long n) {                                    \
    for (long i = 0; i < n; i++) {                                                               \
      T a = x[i];                                                                                \
      T e = EXP(-(a < 0 ? -a : a));                                                              \
      y[i] = (a > 0 ? a : (T)0) + LOG((T)1 + e);                                                 \
    }                                                                                            \
    if (dydx) ck_sigmoid_##SUF(x, dydx, n);                                                      \
  }                                                                                              \
  void ck_sigmoid_##SUF(const T *x, T *y, long n) {                                              \
    for (long i = 0; i < n; i++) {                                                               \
      T a = x[i];                                                                                \
      T e = EXP(-(a < 0 ? -a : a)); /* in (0, 1]: no overflow for either sign */                 \
      T r = (T)1 / ((T)1 + e);                                                                   \
      y[i] = a >= 0 ? r : e * r;                                                                 \
    }                                                                                            \
  }                                                                                              \
  void ck_silu_##SUF(const T *x, T *y, T *dydx, long n) {                                        \
    for (long i = 0; i < n; i++) {                                                               \
      T a = x[i];                                                                                \
      T e = EXP(-(a < 0 ? -a : a));                                                              \
      T r = (T)1 / ((T)1 + e);                                                                   \
      T s = a >= 0 ? r : e * r;                                                                  \
      y[i] = a * s;                                                                              \
      if (dydx) dydx[i] = s * ((T)1 + a * ((T)1 - s));                                           \
    }                                                                                            \
  }                                                                                              \
  void ck_elu_##SUF(const T *x, T *y, T *dydx, long n) {                                         \
    for (long i = 0; i < n; i++) {                                                               \
      T a = x[i];                                                                                \
      T e = EXP(a < 0 ? a : (T)0);                                                               \
      y[i] = a > 0 ? a : e - (T)1;                                                               \
      if (dydx) dydx[i] = a > 0 ? (T)1 : e;                                                      \
    }                                                                                            \
  }                                                                                              \
  void ck_adam_##SUF(T *p, const T *g, T *m, T *v, T *vmax, long n, T beta1, T beta2, T eps,     \
                     T stepSize, T vScale) {                                                     \
    const T c1 = (T)1 - beta1, c2 = (T)1 - beta2;                                                \
    if (vmax) {                                                                                  \
      for (long i = 0; i < n; i++) {                                                             \
        T gi = g[i];                                                                             \
        T mi = beta1 * m[i] + c1 * gi;                                                           \
        T vi = beta2 * v[i] + c2 * gi * gi;                                                      \
        T vm = vmax[i] > vi ? vmax[i] : vi;                                                      \
        m[i] = mi; v[i] = vi; vmax[i] = vm;                                                      \
        p[i] -= stepSize * mi / (sqrt##SUF##_(vm * vScale) + eps);                               \
      }                                                                                          \
    } else {                                                                                     \
      for (long i = 0; i < n; i++) {                                                             \
        T gi = g[i];                                                                             \
        T mi = beta1 * m[i] + c1 * gi;                                                           \
        T vi = beta2 * v[i] + c2 * gi * gi;                                                      \
        m[i] = mi; v[i] = vi;                                                                    \
        p[i] -= stepSize * mi / (sqrt##SUF##_(vi * vScale) + eps);                               \
      }                                                                                          \
    }                                                                                            \
  }                                                                                              \
  void ck_ema_##SUF(T *shadow, const T *p, long n, T decay) {                                    \
    const T c = (T)1 - decay;                                                                    \
    for (long i = 0; i < n; i++) shadow[i] = decay * shadow[i] + c * p[i];                       \
  }

#define sqrtf32_ sqrtf
#define sqrtf64_ sqrt
DEFINE_KERNELS(float, f32, expf, logf)
DEFINE_KERNELS(double, f64, exp, log)

void ck_atomic_add_u64(unsigned long long *total, unsigned long long value) {
    __atomic_fetch_add(total, value, __ATOMIC_RELAXED);
}
