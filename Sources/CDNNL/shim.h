// oneDNN's C API (Debian libdnnl-dev 2.6, built with the OpenMP CPU runtime) plus the two OpenMP
// calls that pin its thread count, and a small convolution helper.
//
// Debian's oneDNN links libgomp; omp.h is a compiler header that Swift's clang does not ship for
// GCC's runtime, so the two prototypes are declared here.
//
// The convolution helper keeps oneDNN's fixed-size C structs (dnnl_dims_t, descriptors) on the C
// side: Swift would see them as 12-element tuples. One `cdnnl_conv` holds the forward,
// backward-data and backward-weights primitives of one shape on plain NCHW/OIHW Float32 memory
// (the layouts the Swift tensors use, so no reorders), plus one memory object per argument whose
// data handle is pointed at the caller's buffers before each execution.
#ifndef CDNNL_SHIM_H
#define CDNNL_SHIM_H
#include <dnnl.h>
#include <string.h>

/// Sets the OpenMP team size of parallel regions started from the calling thread (libgomp).
void omp_set_num_threads(int n);
/// The team size the next parallel region started from the calling thread would use.
int omp_get_max_threads(void);

/// Primitives and argument memories of one convolution shape.
typedef struct cdnnl_conv {
    dnnl_primitive_desc_t fwd_pd, bwd_data_pd, bwd_weights_pd;
    dnnl_primitive_t fwd, bwd_data, bwd_weights;
    dnnl_memory_t src, weights, bias, dst;
} cdnnl_conv;

#define CDNNL_TRY(call) do { dnnl_status_t s_ = (call); if (s_ != dnnl_success) return s_; } while (0)

/// Creates the three primitives for input [n, ic, ih, iw], kernel [oc, ic, k, k], stride s and
/// symmetric zero padding p (right padding chosen so that the output is [n, oc, oh, ow]).
static inline dnnl_status_t cdnnl_conv_create(
    cdnnl_conv *c, dnnl_engine_t engine, int64_t n, int64_t ic, int64_t ih, int64_t iw,
    int64_t oc, int64_t oh, int64_t ow, int64_t k, int64_t s, int64_t p)
{
    memset(c, 0, sizeof *c);
    dnnl_dims_t src_dims = {n, ic, ih, iw}, w_dims = {oc, ic, k, k}, b_dims = {oc}, dst_dims = {n, oc, oh, ow};
    dnnl_dims_t strides = {s, s}, pad_l = {p, p};
    dnnl_dims_t pad_r = {(oh - 1) * s + k - ih - p, (ow - 1) * s + k - iw - p};
    dnnl_memory_desc_t src_md, w_md, b_md, dst_md;
    CDNNL_TRY(dnnl_memory_desc_init_by_tag(&src_md, 4, src_dims, dnnl_f32, dnnl_nchw));
    CDNNL_TRY(dnnl_memory_desc_init_by_tag(&w_md, 4, w_dims, dnnl_f32, dnnl_oihw));
    CDNNL_TRY(dnnl_memory_desc_init_by_tag(&b_md, 1, b_dims, dnnl_f32, dnnl_a));
    CDNNL_TRY(dnnl_memory_desc_init_by_tag(&dst_md, 4, dst_dims, dnnl_f32, dnnl_nchw));

    dnnl_convolution_desc_t fd, bdd, bwd;
    CDNNL_TRY(dnnl_convolution_forward_desc_init(&fd, dnnl_forward_training, dnnl_convolution_direct,
        &src_md, &w_md, &b_md, &dst_md, strides, pad_l, pad_r));
    CDNNL_TRY(dnnl_primitive_desc_create(&c->fwd_pd, &fd, NULL, engine, NULL));
    CDNNL_TRY(dnnl_convolution_backward_data_desc_init(&bdd, dnnl_convolution_direct,
        &src_md, &w_md, &dst_md, strides, pad_l, pad_r));
    CDNNL_TRY(dnnl_primitive_desc_create(&c->bwd_data_pd, &bdd, NULL, engine, c->fwd_pd));
    CDNNL_TRY(dnnl_convolution_backward_weights_desc_init(&bwd, dnnl_convolution_direct,
        &src_md, &w_md, &b_md, &dst_md, strides, pad_l, pad_r));
    CDNNL_TRY(dnnl_primitive_desc_create(&c->bwd_weights_pd, &bwd, NULL, engine, c->fwd_pd));

    CDNNL_TRY(dnnl_primitive_create(&c->fwd, c->fwd_pd));
    CDNNL_TRY(dnnl_primitive_create(&c->bwd_data, c->bwd_data_pd));
    CDNNL_TRY(dnnl_primitive_create(&c->bwd_weights, c->bwd_weights_pd));
    // Memories without a buffer of their own; handles are set before each execution.
    CDNNL_TRY(dnnl_memory_create(&c->src, &src_md, engine, NULL));
    CDNNL_TRY(dnnl_memory_create(&c->weights, &w_md, engine, NULL));
    CDNNL_TRY(dnnl_memory_create(&c->bias, &b_md, engine, NULL));
    CDNNL_TRY(dnnl_memory_create(&c->dst, &dst_md, engine, NULL));
    return dnnl_success;
}

/// Releases everything `cdnnl_conv_create` made (safe on a partly created struct).
static inline void cdnnl_conv_destroy(cdnnl_conv *c) {
    if (c->fwd) dnnl_primitive_destroy(c->fwd);
    if (c->bwd_data) dnnl_primitive_destroy(c->bwd_data);
    if (c->bwd_weights) dnnl_primitive_destroy(c->bwd_weights);
    if (c->fwd_pd) dnnl_primitive_desc_destroy(c->fwd_pd);
    if (c->bwd_data_pd) dnnl_primitive_desc_destroy(c->bwd_data_pd);
    if (c->bwd_weights_pd) dnnl_primitive_desc_destroy(c->bwd_weights_pd);
    if (c->src) dnnl_memory_destroy(c->src);
    if (c->weights) dnnl_memory_destroy(c->weights);
    if (c->bias) dnnl_memory_destroy(c->bias);
    if (c->dst) dnnl_memory_destroy(c->dst);
    memset(c, 0, sizeof *c);
}

/// The implementation oneDNN chose for the forward primitive (e.g. "gemm:jit").
static inline const char *cdnnl_conv_impl(const cdnnl_conv *c, int which) {
    dnnl_primitive_desc_t pd = which == 0 ? c->fwd_pd : which == 1 ? c->bwd_data_pd : c->bwd_weights_pd;
    const char *name = NULL;
    if (dnnl_primitive_desc_query(pd, dnnl_query_impl_info_str, 0, (void *)&name) != dnnl_success || !name) return "?";
    return name;
}

static inline dnnl_status_t cdnnl_conv_run(
    dnnl_primitive_t prim, dnnl_stream_t stream, const cdnnl_conv *c, int kind,
    float *src, float *weights, float *bias, float *dst)
{
    CDNNL_TRY(dnnl_memory_set_data_handle(c->src, src));
    CDNNL_TRY(dnnl_memory_set_data_handle(c->weights, weights));
    CDNNL_TRY(dnnl_memory_set_data_handle(c->bias, bias));
    CDNNL_TRY(dnnl_memory_set_data_handle(c->dst, dst));
    dnnl_exec_arg_t args[4];
    if (kind == 0) {         // forward: dst = conv(src, weights) + bias
        args[0] = (dnnl_exec_arg_t){DNNL_ARG_SRC, c->src};
        args[1] = (dnnl_exec_arg_t){DNNL_ARG_WEIGHTS, c->weights};
        args[2] = (dnnl_exec_arg_t){DNNL_ARG_BIAS, c->bias};
        args[3] = (dnnl_exec_arg_t){DNNL_ARG_DST, c->dst};
        CDNNL_TRY(dnnl_primitive_execute(prim, stream, 4, args));
    } else if (kind == 1) {  // backward data: src <- diff_src from weights and dst = diff_dst
        args[0] = (dnnl_exec_arg_t){DNNL_ARG_DIFF_SRC, c->src};
        args[1] = (dnnl_exec_arg_t){DNNL_ARG_WEIGHTS, c->weights};
        args[2] = (dnnl_exec_arg_t){DNNL_ARG_DIFF_DST, c->dst};
        CDNNL_TRY(dnnl_primitive_execute(prim, stream, 3, args));
    } else {                 // backward weights: weights, bias <- diff_weights, diff_bias
        args[0] = (dnnl_exec_arg_t){DNNL_ARG_SRC, c->src};
        args[1] = (dnnl_exec_arg_t){DNNL_ARG_DIFF_WEIGHTS, c->weights};
        args[2] = (dnnl_exec_arg_t){DNNL_ARG_DIFF_BIAS, c->bias};
        args[3] = (dnnl_exec_arg_t){DNNL_ARG_DIFF_DST, c->dst};
        CDNNL_TRY(dnnl_primitive_execute(prim, stream, 4, args));
    }
    return dnnl_stream_wait(stream);
}

/// dst [n, oc, oh, ow] = conv(src, weights) + bias.
static inline dnnl_status_t cdnnl_conv_forward(const cdnnl_conv *c, dnnl_stream_t stream,
    const float *src, const float *weights, const float *bias, float *dst) {
    return cdnnl_conv_run(c->fwd, stream, c, 0, (float *)src, (float *)weights, (float *)bias, dst);
}

/// diff_src [n, ic, ih, iw] = conv backward-data of diff_dst (overwrites diff_src).
static inline dnnl_status_t cdnnl_conv_backward_data(const cdnnl_conv *c, dnnl_stream_t stream,
    const float *diff_dst, const float *weights, float *diff_src) {
    return cdnnl_conv_run(c->bwd_data, stream, c, 1, diff_src, (float *)weights, NULL, (float *)diff_dst);
}

/// diff_weights [oc, ic, k, k] and diff_bias [oc] from src and diff_dst (overwritten, not added).
static inline dnnl_status_t cdnnl_conv_backward_weights(const cdnnl_conv *c, dnnl_stream_t stream,
    const float *src, const float *diff_dst, float *diff_weights, float *diff_bias) {
    return cdnnl_conv_run(c->bwd_weights, stream, c, 2, (float *)src, diff_weights, diff_bias, (float *)diff_dst);
}

#undef CDNNL_TRY
#endif
