// GroupNorm in oneDNN's channel-blocked layout (see ckernels.h). The lane loops have a constant
// length (the block), so clang keeps each block's accumulators in vector registers; written in
// Swift with the block as a variable, the same loops ran as scalar code (issue 32's profile:
// GroupNorm 55 ms of a C = 32 training step against 39 ms in NCHW).
#include "ckernels.h"

#pragma clang fp contract(off)

static inline __attribute__((always_inline)) void gn_forward(
    const float *restrict x, float *restrict y, const float *restrict gamma, const float *restrict beta,
    long c, long hw, long groups, const long B, double eps, double *restrict mean, double *restrict rstd)
{
    const long cpg = c / groups, blocks = c / B;
    const double count = (double)(cpg * hw);
    double sums[c], mu[c];
    float scale[c], shift[c];
    for (long cb = 0; cb < blocks; cb++) {
        const float *src = x + cb * hw * B;
        double s[B];
        for (long l = 0; l < B; l++) s[l] = 0;
        for (long p = 0; p < hw; p++)
            for (long l = 0; l < B; l++) s[l] += (double)src[p * B + l];
        for (long l = 0; l < B; l++) sums[cb * B + l] = s[l];
    }
    for (long g = 0; g < groups; g++) {
        double t = 0;
        for (long k = g * cpg; k < (g + 1) * cpg; k++) t += sums[k];
        mean[g] = t / count;
        for (long k = g * cpg; k < (g + 1) * cpg; k++) mu[k] = t / count;
    }
    for (long cb = 0; cb < blocks; cb++) {
        const float *src = x + cb * hw * B;
        const double *m = mu + cb * B;
        double s[B];
        for (long l = 0; l < B; l++) s[l] = 0;
        for (long p = 0; p < hw; p++)
            for (long l = 0; l < B; l++) {
                double e = (double)src[p * B + l] - m[l];
                s[l] += e * e;
            }
        for (long l = 0; l < B; l++) sums[cb * B + l] = s[l];
    }
    for (long g = 0; g < groups; g++) {
        double q = 0;
        for (long k = g * cpg; k < (g + 1) * cpg; k++) q += sums[k];
        double r = 1 / __builtin_sqrt(q / count + eps);
        rstd[g] = r;
        for (long k = g * cpg; k < (g + 1) * cpg; k++) {
            scale[k] = gamma[k] * (float)r;
            shift[k] = beta[k] - (float)mu[k] * scale[k];
        }
    }
    for (long cb = 0; cb < blocks; cb++) {
        const float *src = x + cb * hw * B;
        float *dst = y + cb * hw * B;
        const float *a = scale + cb * B, *b = shift + cb * B;
        for (long p = 0; p < hw; p++)
            for (long l = 0; l < B; l++) dst[p * B + l] = src[p * B + l] * a[l] + b[l];
    }
}

int ck_groupnorm_blocked_forward_f32(const float *x, float *y, const float *gamma, const float *beta,
                                     long c, long hw, long groups, long block, double eps, double *mean, double *rstd) {
    if ((block != 8 && block != 16) || c % block != 0 || groups <= 0 || c % groups != 0) return -1;
    if (block == 16) gn_forward(x, y, gamma, beta, c, hw, groups, 16, eps, mean, rstd);
    else gn_forward(x, y, gamma, beta, c, hw, groups, 8, eps, mean, rstd);
    return 0;
}

static inline __attribute__((always_inline)) void gn_backward(
    const float *restrict x, const float *restrict dy, float *restrict dx, const float *restrict gamma,
    long c, long hw, long groups, const long B, const double *restrict mean, const double *restrict rstd,
    double *restrict s1, double *restrict s2)
{
    const long cpg = c / groups, blocks = c / B;
    const double count = (double)(cpg * hw);
    float muT[c], rT[c], aT[c], bT[c];
    for (long cb = 0; cb < blocks; cb++) {
        const float *xb = x + cb * hw * B, *gb = dy + cb * hw * B;
        double m[B], a1[B], a2[B];
        for (long l = 0; l < B; l++) {
            m[l] = mean[(cb * B + l) / cpg];
            a1[l] = 0;
            a2[l] = 0;
        }
        for (long p = 0; p < hw; p++)
            for (long l = 0; l < B; l++) {
                double g = (double)gb[p * B + l];
                a1[l] += g;
                a2[l] += g * ((double)xb[p * B + l] - m[l]);
            }
        for (long l = 0; l < B; l++) {
            s1[cb * B + l] = a1[l];
            s2[cb * B + l] = a2[l];
        }
    }
    for (long g = 0; g < groups; g++) {
        const double r = rstd[g];
        double sumDxhat = 0, sumDxhatXhat = 0;
        for (long k = g * cpg; k < (g + 1) * cpg; k++) {
            s2[k] *= r;
            sumDxhat += (double)gamma[k] * s1[k];
            sumDxhatXhat += (double)gamma[k] * s2[k];
        }
        const float a = (float)(sumDxhat / count), bx = (float)(sumDxhatXhat / count * r);
        for (long k = g * cpg; k < (g + 1) * cpg; k++) {
            muT[k] = (float)mean[g];
            rT[k] = (float)r;
            aT[k] = a;
            bT[k] = bx;
        }
    }
    for (long cb = 0; cb < blocks; cb++) {
        const long o = cb * hw * B, q = cb * B;
        const float *xb = x + o, *gb = dy + o;
        float *db = dx + o;
        const float *gm = gamma + q, *m = muT + q, *r = rT + q, *a = aT + q, *bx = bT + q;
        for (long p = 0; p < hw; p++)
            for (long l = 0; l < B; l++) {
                const long j = p * B + l;
                db[j] = r[l] * (gm[l] * gb[j] - a[l] - (xb[j] - m[l]) * bx[l]);
            }
    }
}

int ck_groupnorm_blocked_backward_f32(const float *x, const float *dy, float *dx, const float *gamma,
                                      long c, long hw, long groups, long block, const double *mean, const double *rstd,
                                      double *sum_dy, double *sum_dy_xhat) {
    if ((block != 8 && block != 16) || c % block != 0 || groups <= 0 || c % groups != 0) return -1;
    if (block == 16) gn_backward(x, dy, dx, gamma, c, hw, groups, 16, mean, rstd, sum_dy, sum_dy_xhat);
    else gn_backward(x, dy, dx, gamma, c, hw, groups, 8, mean, rstd, sum_dy, sum_dy_xhat);
    return 0;
}
