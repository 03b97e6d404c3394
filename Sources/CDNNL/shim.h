// oneDNN's C API (Debian libdnnl-dev 2.6, built with the OpenMP CPU runtime) plus the two OpenMP
// calls that pin its thread count, and a small convolution helper.
//
// Debian's oneDNN links libgomp; omp.h is a compiler header that Swift's clang does not ship for
// GCC's runtime, so the two prototypes are declared here.
//
// The convolution helper keeps oneDNN's fixed-size C structs (dnnl_dims_t, descriptors) on the C
// side: Swift would see them as 12-element tuples. One `cdnnl_conv` holds the forward,
// backward-data and backward-weights primitives of one shape. The caller's weights are plain
// OIHW Float32 and its activations NCHW or channel-blocked (nChw8c / nChw16c, the layouts of
// oneDNN's own JIT kernels); the primitives either work on plain layouts (oneDNN then picks its
// im2col + GEMM implementation) or on the layouts oneDNN prefers, with reorders around each call
// wherever the caller's layout differs from oneDNN's choice.
#ifndef CDNNL_SHIM_H
#define CDNNL_SHIM_H
#include <dnnl.h>
#include <string.h>
#include <time.h>

/// Sets the OpenMP team size of parallel regions started from the calling thread (libgomp).
void omp_set_num_threads(int n);
/// The team size the next parallel region started from the calling thread would use.
int omp_get_max_threads(void);

#define CDNNL_TRY(call) do { dnnl_status_t s_ = (call); if (s_ != dnnl_success) return s_; } while (0)

// Scratchpads (issue 32): every primitive here is made with scratchpad mode `user` and gets a
// buffer of its own, passed at each execution. In the default `library` mode, Debian's oneDNN
// keeps one scratchpad per thread (a thread_local buffer, sized by the primitives *that thread*
// created), so a primitive made on one thread and run on another read a buffer of the wrong size
// or none: a network replica whose pieces run on whichever worker thread takes them crashed in
// memset on a NULL scratchpad (a GEMM-based convolution's im2col buffer) in the test suite. With
// its own buffer a primitive runs correctly from any thread (one thread at a time per plan).

/// Attributes with a user-managed scratchpad (NULL on failure).
static inline dnnl_primitive_attr_t cdnnl_user_scratchpad_attr(void) {
    dnnl_primitive_attr_t attr = NULL;
    if (dnnl_primitive_attr_create(&attr) != dnnl_success) return NULL;
    if (dnnl_primitive_attr_set_scratchpad_mode(attr, dnnl_scratchpad_mode_user) != dnnl_success) {
        dnnl_primitive_attr_destroy(attr);
        return NULL;
    }
    return attr;
}

/// The scratchpad buffer `pd` asks for, or NULL when it needs none.
static inline dnnl_status_t cdnnl_scratchpad_create(dnnl_memory_t *m, dnnl_engine_t e, const_dnnl_primitive_desc_t pd) {
    *m = NULL;
    const dnnl_memory_desc_t *md = dnnl_primitive_desc_query_md(pd, dnnl_query_scratchpad_md, 0);
    if (!md || dnnl_memory_desc_get_size(md) == 0) return dnnl_success;
    return dnnl_memory_create(m, md, e, DNNL_MEMORY_ALLOCATE);
}

/// Executes `prim` with `args` (room for one more) plus its scratchpad when it has one.
static inline dnnl_status_t cdnnl_execute(dnnl_primitive_t prim, dnnl_stream_t s, int nargs, dnnl_exec_arg_t *args, dnnl_memory_t scratchpad) {
    if (scratchpad) { args[nargs].arg = DNNL_ARG_SCRATCHPAD; args[nargs].memory = scratchpad; nargs++; }
    return dnnl_primitive_execute(prim, s, nargs, args);
}

/// One primitive argument: the caller's buffer in the caller's layout (`user`, its handle set per
/// call; named `plain` below, which it is unless the caller holds blocked activations) and the
/// memory the primitive reads or writes (`inner`: the same object when the primitive accepts the
/// plain layout, otherwise a library-allocated buffer in the blocked layout oneDNN chose, reached
/// by a reorder before (inputs) or after (outputs) the primitive).
typedef struct cdnnl_port {
    dnnl_memory_t user, inner, scratchpad;
    dnnl_primitive_t reorder;
} cdnnl_port;

static inline dnnl_status_t cdnnl_port_create(cdnnl_port *p, dnnl_engine_t e, const dnnl_memory_desc_t *plain,
                                              const dnnl_memory_desc_t *chosen, int is_output) {
    CDNNL_TRY(dnnl_memory_create(&p->user, plain, e, NULL));
    if (dnnl_memory_desc_equal(plain, chosen)) { p->inner = p->user; p->reorder = NULL; return dnnl_success; }
    CDNNL_TRY(dnnl_memory_create(&p->inner, chosen, e, DNNL_MEMORY_ALLOCATE));
    dnnl_primitive_desc_t rpd;
    dnnl_primitive_attr_t attr = cdnnl_user_scratchpad_attr();
    if (!attr) return dnnl_out_of_memory;
    dnnl_status_t st = is_output ? dnnl_reorder_primitive_desc_create(&rpd, chosen, e, plain, e, attr)
                                 : dnnl_reorder_primitive_desc_create(&rpd, plain, e, chosen, e, attr);
    dnnl_primitive_attr_destroy(attr);
    if (st != dnnl_success) return st;
    st = dnnl_primitive_create(&p->reorder, rpd);
    if (st == dnnl_success) st = cdnnl_scratchpad_create(&p->scratchpad, e, rpd);
    dnnl_primitive_desc_destroy(rpd);
    return st;
}

static inline void cdnnl_port_destroy(cdnnl_port *p) {
    if (p->reorder) dnnl_primitive_destroy(p->reorder);
    if (p->scratchpad) dnnl_memory_destroy(p->scratchpad);
    if (p->inner && p->inner != p->user) dnnl_memory_destroy(p->inner);
    if (p->user) dnnl_memory_destroy(p->user);
    memset(p, 0, sizeof *p);
}

static inline uint64_t cdnnl_now_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

/// Runs the port's reorder; when `ns` is not NULL, adds its wall time to *ns (the CPU engine
/// executes a primitive before `dnnl_primitive_execute` returns).
static inline dnnl_status_t cdnnl_port_reorder(cdnnl_port *p, dnnl_stream_t s, int is_output, uint64_t *ns) {
    dnnl_exec_arg_t args[3] = {{DNNL_ARG_FROM, is_output ? p->inner : p->user}, {DNNL_ARG_TO, is_output ? p->user : p->inner}};
    uint64_t t0 = ns ? cdnnl_now_ns() : 0;
    dnnl_status_t st = cdnnl_execute(p->reorder, s, 2, args, p->scratchpad);
    if (ns) *ns += cdnnl_now_ns() - t0;
    return st;
}

/// Points the port at `data` and, for an input in a blocked layout, reorders it in.
static inline dnnl_status_t cdnnl_port_in(cdnnl_port *p, dnnl_stream_t s, const float *data, uint64_t *ns) {
    CDNNL_TRY(dnnl_memory_set_data_handle(p->user, (void *)data));
    return p->reorder ? cdnnl_port_reorder(p, s, 0, ns) : dnnl_success;
}

/// Points the port at `data` (before the primitive runs).
static inline dnnl_status_t cdnnl_port_bind(cdnnl_port *p, float *data) {
    return dnnl_memory_set_data_handle(p->user, data);
}

/// For an output in a blocked layout, reorders the result out into the bound plain buffer.
static inline dnnl_status_t cdnnl_port_out(cdnnl_port *p, dnnl_stream_t s, uint64_t *ns) {
    return p->reorder ? cdnnl_port_reorder(p, s, 1, ns) : dnnl_success;
}

/// Primitives and argument ports of one convolution shape.
typedef struct cdnnl_conv {
    dnnl_primitive_desc_t fwd_pd, bwd_data_pd, bwd_weights_pd;
    dnnl_primitive_t fwd, bwd_data, bwd_weights;
    dnnl_memory_t fwd_scratch, bwd_data_scratch, bwd_weights_scratch;  // own scratchpads (NULL: none needed)
    cdnnl_port f_src, f_w, f_dst;          // forward
    cdnnl_port d_ddst, d_w, d_dsrc;        // backward-data
    cdnnl_port w_src, w_ddst, w_dw;        // backward-weights
    dnnl_memory_t bias;                    // plain [oc], shared by forward and backward-weights
    int reuse_src, reuse_ddst;             // backward-weights reads forward's / backward-data's copies
    int profile;                           // when set, reorder_ns accumulates the reorders' wall time
    uint64_t reorder_ns;
} cdnnl_conv;

#define CDNNL_NS(c) ((c)->profile ? &(c)->reorder_ns : NULL)

static inline const dnnl_memory_desc_t *cdnnl_md(dnnl_primitive_desc_t pd, dnnl_query_t what) {
    return dnnl_primitive_desc_query_md(pd, what, 0);
}

/// The activation layout of a channel block: 0 plain NCHW, 8 nChw8c, 16 nChw16c.
static inline dnnl_format_tag_t cdnnl_activation_tag(int64_t block) {
    return block == 16 ? dnnl_nChw16c : block == 8 ? dnnl_nChw8c : dnnl_nchw;
}

/// Creates the three primitives for input [n, ic, ih, iw], kernel [oc, ic, k, k], stride s and
/// symmetric zero padding p (right padding chosen so that the output is [n, oc, oh, ow]).
/// `blocked` = 0 makes every primitive work on the plain NCHW / OIHW layouts; 1 lets oneDNN
/// choose its layouts (format `any`), with reorders to and from the caller's buffers.
/// `src_block` and `dst_block` give the layout of the caller's source-side (src, diff_src) and
/// destination-side (dst, diff_dst) activations (see `cdnnl_activation_tag`; weights are always
/// plain OIHW): a network kept in oneDNN's channel-blocked layout passes its block, and where
/// oneDNN chooses that layout too the port needs no reorder (issue 32).
static inline dnnl_status_t cdnnl_conv_create(
    cdnnl_conv *c, dnnl_engine_t engine, int64_t n, int64_t ic, int64_t ih, int64_t iw,
    int64_t oc, int64_t oh, int64_t ow, int64_t k, int64_t s, int64_t p, int blocked,
    int64_t src_block, int64_t dst_block)
{
    memset(c, 0, sizeof *c);
    if ((src_block != 0 && (ic % src_block != 0 || (src_block != 8 && src_block != 16)))
        || (dst_block != 0 && (oc % dst_block != 0 || (dst_block != 8 && dst_block != 16)))) return dnnl_invalid_arguments;
    dnnl_dims_t src_dims = {n, ic, ih, iw}, w_dims = {oc, ic, k, k}, b_dims = {oc}, dst_dims = {n, oc, oh, ow};
    dnnl_dims_t strides = {s, s}, pad_l = {p, p};
    dnnl_dims_t pad_r = {(oh - 1) * s + k - ih - p, (ow - 1) * s + k - iw - p};
    dnnl_memory_desc_t src_md, w_md, b_md, dst_md, src_any, w_any, dst_any;
    CDNNL_TRY(dnnl_memory_desc_init_by_tag(&src_md, 4, src_dims, dnnl_f32, cdnnl_activation_tag(src_block)));
    CDNNL_TRY(dnnl_memory_desc_init_by_tag(&w_md, 4, w_dims, dnnl_f32, dnnl_oihw));
    CDNNL_TRY(dnnl_memory_desc_init_by_tag(&b_md, 1, b_dims, dnnl_f32, dnnl_a));
    CDNNL_TRY(dnnl_memory_desc_init_by_tag(&dst_md, 4, dst_dims, dnnl_f32, cdnnl_activation_tag(dst_block)));
    dnnl_format_tag_t any = dnnl_format_tag_any;
    CDNNL_TRY(dnnl_memory_desc_init_by_tag(&src_any, 4, src_dims, dnnl_f32, blocked ? any : dnnl_nchw));
    CDNNL_TRY(dnnl_memory_desc_init_by_tag(&w_any, 4, w_dims, dnnl_f32, blocked ? any : dnnl_oihw));
    CDNNL_TRY(dnnl_memory_desc_init_by_tag(&dst_any, 4, dst_dims, dnnl_f32, blocked ? any : dnnl_nchw));

    dnnl_convolution_desc_t fd, bdd, bwd;
    CDNNL_TRY(dnnl_convolution_forward_desc_init(&fd, dnnl_forward_training, dnnl_convolution_direct,
        &src_any, &w_any, &b_md, &dst_any, strides, pad_l, pad_r));
    CDNNL_TRY(dnnl_convolution_backward_data_desc_init(&bdd, dnnl_convolution_direct,
        &src_any, &w_any, &dst_any, strides, pad_l, pad_r));
    CDNNL_TRY(dnnl_convolution_backward_weights_desc_init(&bwd, dnnl_convolution_direct,
        &src_any, &w_any, &b_md, &dst_any, strides, pad_l, pad_r));
    dnnl_primitive_attr_t attr = cdnnl_user_scratchpad_attr();
    if (!attr) return dnnl_out_of_memory;
    dnnl_status_t st = dnnl_primitive_desc_create(&c->fwd_pd, &fd, attr, engine, NULL);
    if (st == dnnl_success) st = dnnl_primitive_desc_create(&c->bwd_data_pd, &bdd, attr, engine, c->fwd_pd);
    if (st == dnnl_success) st = dnnl_primitive_desc_create(&c->bwd_weights_pd, &bwd, attr, engine, c->fwd_pd);
    dnnl_primitive_attr_destroy(attr);
    if (st != dnnl_success) return st;

    CDNNL_TRY(dnnl_primitive_create(&c->fwd, c->fwd_pd));
    CDNNL_TRY(dnnl_primitive_create(&c->bwd_data, c->bwd_data_pd));
    CDNNL_TRY(dnnl_primitive_create(&c->bwd_weights, c->bwd_weights_pd));
    CDNNL_TRY(cdnnl_scratchpad_create(&c->fwd_scratch, engine, c->fwd_pd));
    CDNNL_TRY(cdnnl_scratchpad_create(&c->bwd_data_scratch, engine, c->bwd_data_pd));
    CDNNL_TRY(cdnnl_scratchpad_create(&c->bwd_weights_scratch, engine, c->bwd_weights_pd));

    CDNNL_TRY(cdnnl_port_create(&c->f_src, engine, &src_md, cdnnl_md(c->fwd_pd, dnnl_query_src_md), 0));
    CDNNL_TRY(cdnnl_port_create(&c->f_w, engine, &w_md, cdnnl_md(c->fwd_pd, dnnl_query_weights_md), 0));
    CDNNL_TRY(cdnnl_port_create(&c->f_dst, engine, &dst_md, cdnnl_md(c->fwd_pd, dnnl_query_dst_md), 1));
    CDNNL_TRY(cdnnl_port_create(&c->d_ddst, engine, &dst_md, cdnnl_md(c->bwd_data_pd, dnnl_query_diff_dst_md), 0));
    CDNNL_TRY(cdnnl_port_create(&c->d_w, engine, &w_md, cdnnl_md(c->bwd_data_pd, dnnl_query_weights_md), 0));
    CDNNL_TRY(cdnnl_port_create(&c->d_dsrc, engine, &src_md, cdnnl_md(c->bwd_data_pd, dnnl_query_diff_src_md), 1));
    CDNNL_TRY(cdnnl_port_create(&c->w_src, engine, &src_md, cdnnl_md(c->bwd_weights_pd, dnnl_query_src_md), 0));
    CDNNL_TRY(cdnnl_port_create(&c->w_ddst, engine, &dst_md, cdnnl_md(c->bwd_weights_pd, dnnl_query_diff_dst_md), 0));
    CDNNL_TRY(cdnnl_port_create(&c->w_dw, engine, &w_md, cdnnl_md(c->bwd_weights_pd, dnnl_query_diff_weights_md), 1));
    CDNNL_TRY(dnnl_memory_create(&c->bias, &b_md, engine, NULL));
    // Backward-weights can read the blocked copies the forward / backward-data passes made.
    c->reuse_src = c->f_src.reorder && dnnl_memory_desc_equal(cdnnl_md(c->fwd_pd, dnnl_query_src_md), cdnnl_md(c->bwd_weights_pd, dnnl_query_src_md));
    c->reuse_ddst = c->d_ddst.reorder && dnnl_memory_desc_equal(cdnnl_md(c->bwd_data_pd, dnnl_query_diff_dst_md), cdnnl_md(c->bwd_weights_pd, dnnl_query_diff_dst_md));
    return dnnl_success;
}

/// Releases everything `cdnnl_conv_create` made (safe on a partly created struct).
static inline void cdnnl_conv_destroy(cdnnl_conv *c) {
    if (c->fwd) dnnl_primitive_destroy(c->fwd);
    if (c->bwd_data) dnnl_primitive_destroy(c->bwd_data);
    if (c->bwd_weights) dnnl_primitive_destroy(c->bwd_weights);
    if (c->fwd_scratch) dnnl_memory_destroy(c->fwd_scratch);
    if (c->bwd_data_scratch) dnnl_memory_destroy(c->bwd_data_scratch);
    if (c->bwd_weights_scratch) dnnl_memory_destroy(c->bwd_weights_scratch);
    if (c->fwd_pd) dnnl_primitive_desc_destroy(c->fwd_pd);
    if (c->bwd_data_pd) dnnl_primitive_desc_destroy(c->bwd_data_pd);
    if (c->bwd_weights_pd) dnnl_primitive_desc_destroy(c->bwd_weights_pd);
    cdnnl_port *ports[] = {&c->f_src, &c->f_w, &c->f_dst, &c->d_ddst, &c->d_w, &c->d_dsrc, &c->w_src, &c->w_ddst, &c->w_dw};
    for (int i = 0; i < 9; i++) cdnnl_port_destroy(ports[i]);
    if (c->bias) dnnl_memory_destroy(c->bias);
    memset(c, 0, sizeof *c);
}

/// The implementation oneDNN chose: 0 forward, 1 backward-data, 2 backward-weights.
static inline const char *cdnnl_conv_impl(const cdnnl_conv *c, int which) {
    dnnl_primitive_desc_t pd = which == 0 ? c->fwd_pd : which == 1 ? c->bwd_data_pd : c->bwd_weights_pd;
    const char *name = NULL;
    if (dnnl_primitive_desc_query(pd, dnnl_query_impl_info_str, 0, (void *)&name) != dnnl_success || !name) return "?";
    return name;
}

/// Whether the primitives work on blocked layouts (reorders in use).
static inline int cdnnl_conv_is_blocked(const cdnnl_conv *c) { return c->f_src.reorder || c->f_dst.reorder || c->f_w.reorder; }

/// dst [n, oc, oh, ow] = conv(src, weights) + bias.
static inline dnnl_status_t cdnnl_conv_forward(cdnnl_conv *c, dnnl_stream_t s,
    const float *src, const float *weights, const float *bias, float *dst) {
    CDNNL_TRY(cdnnl_port_in(&c->f_src, s, src, CDNNL_NS(c)));
    CDNNL_TRY(cdnnl_port_in(&c->f_w, s, weights, CDNNL_NS(c)));
    CDNNL_TRY(dnnl_memory_set_data_handle(c->bias, (void *)bias));
    CDNNL_TRY(cdnnl_port_bind(&c->f_dst, dst));
    dnnl_exec_arg_t args[5] = {{DNNL_ARG_SRC, c->f_src.inner}, {DNNL_ARG_WEIGHTS, c->f_w.inner},
                               {DNNL_ARG_BIAS, c->bias}, {DNNL_ARG_DST, c->f_dst.inner}};
    CDNNL_TRY(cdnnl_execute(c->fwd, s, 4, args, c->fwd_scratch));
    CDNNL_TRY(cdnnl_port_out(&c->f_dst, s, CDNNL_NS(c)));
    return dnnl_stream_wait(s);
}

/// diff_src [n, ic, ih, iw] = conv backward-data of diff_dst (overwrites diff_src).
static inline dnnl_status_t cdnnl_conv_backward_data(cdnnl_conv *c, dnnl_stream_t s,
    const float *diff_dst, const float *weights, float *diff_src) {
    CDNNL_TRY(cdnnl_port_in(&c->d_ddst, s, diff_dst, CDNNL_NS(c)));
    CDNNL_TRY(cdnnl_port_in(&c->d_w, s, weights, CDNNL_NS(c)));
    CDNNL_TRY(cdnnl_port_bind(&c->d_dsrc, diff_src));
    dnnl_exec_arg_t args[4] = {{DNNL_ARG_DIFF_DST, c->d_ddst.inner}, {DNNL_ARG_WEIGHTS, c->d_w.inner},
                               {DNNL_ARG_DIFF_SRC, c->d_dsrc.inner}};
    CDNNL_TRY(cdnnl_execute(c->bwd_data, s, 3, args, c->bwd_data_scratch));
    CDNNL_TRY(cdnnl_port_out(&c->d_dsrc, s, CDNNL_NS(c)));
    return dnnl_stream_wait(s);
}

/// diff_weights [oc, ic, k, k] and diff_bias [oc] from src and diff_dst (overwritten, not added).
/// Must follow the forward on `src` and, when `after_backward_data`, the backward-data on the
/// same `diff_dst` (their blocked copies are reused).
static inline dnnl_status_t cdnnl_conv_backward_weights(cdnnl_conv *c, dnnl_stream_t s,
    const float *src, const float *diff_dst, float *diff_weights, float *diff_bias, int after_backward_data) {
    dnnl_memory_t src_mem, ddst_mem;
    if (c->reuse_src) { src_mem = c->f_src.inner; } else { CDNNL_TRY(cdnnl_port_in(&c->w_src, s, src, CDNNL_NS(c))); src_mem = c->w_src.inner; }
    if (c->reuse_ddst && after_backward_data) { ddst_mem = c->d_ddst.inner; }
    else { CDNNL_TRY(cdnnl_port_in(&c->w_ddst, s, diff_dst, CDNNL_NS(c))); ddst_mem = c->w_ddst.inner; }
    CDNNL_TRY(cdnnl_port_bind(&c->w_dw, diff_weights));
    CDNNL_TRY(dnnl_memory_set_data_handle(c->bias, diff_bias));
    dnnl_exec_arg_t args[5] = {{DNNL_ARG_SRC, src_mem}, {DNNL_ARG_DIFF_DST, ddst_mem},
                               {DNNL_ARG_DIFF_WEIGHTS, c->w_dw.inner}, {DNNL_ARG_DIFF_BIAS, c->bias}};
    CDNNL_TRY(cdnnl_execute(c->bwd_weights, s, 4, args, c->bwd_weights_scratch));
    CDNNL_TRY(cdnnl_port_out(&c->w_dw, s, CDNNL_NS(c)));
    return dnnl_stream_wait(s);
}


/// A forward-only convolution (issue 32) whose source and destination both stay in the
/// channel-blocked layout nChw{block}c (block 8 or 16: oneDNN's native activation layouts on AVX2
/// and AVX-512) on the caller's side, so that a network kept in that layout runs it with no
/// activation reorder; the caller's weights are plain OIHW, reordered in to the primitive's choice.
typedef struct cdnnl_fwd {
    dnnl_primitive_desc_t pd;
    dnnl_primitive_t prim;
    dnnl_memory_t src, dst, bias, scratchpad;
    cdnnl_port w;
    int profile;                           // when set, reorder_ns accumulates the weight reorder's time
    uint64_t reorder_ns;
} cdnnl_fwd;

static inline dnnl_status_t cdnnl_fwd_create(
    cdnnl_fwd *c, dnnl_engine_t engine, int64_t n, int64_t ic, int64_t ih, int64_t iw,
    int64_t oc, int64_t oh, int64_t ow, int64_t k, int64_t s, int64_t p, int64_t block)
{
    memset(c, 0, sizeof *c);
    if (block != 8 && block != 16) return dnnl_invalid_arguments;
    dnnl_format_tag_t tag = block == 16 ? dnnl_nChw16c : dnnl_nChw8c;
    dnnl_dims_t src_dims = {n, ic, ih, iw}, w_dims = {oc, ic, k, k}, b_dims = {oc}, dst_dims = {n, oc, oh, ow};
    dnnl_dims_t strides = {s, s}, pad_l = {p, p};
    dnnl_dims_t pad_r = {(oh - 1) * s + k - ih - p, (ow - 1) * s + k - iw - p};
    dnnl_memory_desc_t src_md, w_md, w_any, b_md, dst_md;
    CDNNL_TRY(dnnl_memory_desc_init_by_tag(&src_md, 4, src_dims, dnnl_f32, tag));
    CDNNL_TRY(dnnl_memory_desc_init_by_tag(&w_md, 4, w_dims, dnnl_f32, dnnl_oihw));
    CDNNL_TRY(dnnl_memory_desc_init_by_tag(&w_any, 4, w_dims, dnnl_f32, dnnl_format_tag_any));
    CDNNL_TRY(dnnl_memory_desc_init_by_tag(&b_md, 1, b_dims, dnnl_f32, dnnl_a));
    CDNNL_TRY(dnnl_memory_desc_init_by_tag(&dst_md, 4, dst_dims, dnnl_f32, tag));
    dnnl_convolution_desc_t fd;
    CDNNL_TRY(dnnl_convolution_forward_desc_init(&fd, dnnl_forward_inference, dnnl_convolution_direct,
        &src_md, &w_any, &b_md, &dst_md, strides, pad_l, pad_r));
    dnnl_primitive_attr_t attr = cdnnl_user_scratchpad_attr();
    if (!attr) return dnnl_out_of_memory;
    dnnl_status_t st = dnnl_primitive_desc_create(&c->pd, &fd, attr, engine, NULL);
    dnnl_primitive_attr_destroy(attr);
    if (st != dnnl_success) return st;
    CDNNL_TRY(dnnl_primitive_create(&c->prim, c->pd));
    CDNNL_TRY(cdnnl_scratchpad_create(&c->scratchpad, engine, c->pd));
    CDNNL_TRY(dnnl_memory_create(&c->src, &src_md, engine, NULL));
    CDNNL_TRY(dnnl_memory_create(&c->dst, &dst_md, engine, NULL));
    CDNNL_TRY(dnnl_memory_create(&c->bias, &b_md, engine, NULL));
    return cdnnl_port_create(&c->w, engine, &w_md, cdnnl_md(c->pd, dnnl_query_weights_md), 0);
}

static inline void cdnnl_fwd_destroy(cdnnl_fwd *c) {
    if (c->prim) dnnl_primitive_destroy(c->prim);
    if (c->pd) dnnl_primitive_desc_destroy(c->pd);
    if (c->src) dnnl_memory_destroy(c->src);
    if (c->dst) dnnl_memory_destroy(c->dst);
    if (c->bias) dnnl_memory_destroy(c->bias);
    if (c->scratchpad) dnnl_memory_destroy(c->scratchpad);
    cdnnl_port_destroy(&c->w);
    memset(c, 0, sizeof *c);
}

/// oneDNN's name for the implementation it chose (e.g. "jit:avx512_core").
static inline const char *cdnnl_fwd_impl(const cdnnl_fwd *c) {
    const char *name = NULL;
    if (dnnl_primitive_desc_query(c->pd, dnnl_query_impl_info_str, 0, (void *)&name) != dnnl_success || !name) return "?";
    return name;
}

/// dst = conv(src, weights) + bias, src and dst in the blocked layout the plan was made for.
static inline dnnl_status_t cdnnl_fwd_run(cdnnl_fwd *c, dnnl_stream_t s,
    const float *src, const float *weights, const float *bias, float *dst) {
    CDNNL_TRY(dnnl_memory_set_data_handle(c->src, (void *)src));
    CDNNL_TRY(dnnl_memory_set_data_handle(c->dst, dst));
    CDNNL_TRY(dnnl_memory_set_data_handle(c->bias, (void *)bias));
    CDNNL_TRY(cdnnl_port_in(&c->w, s, weights, CDNNL_NS(c)));
    dnnl_exec_arg_t args[5] = {{DNNL_ARG_SRC, c->src}, {DNNL_ARG_WEIGHTS, c->w.inner},
                               {DNNL_ARG_BIAS, c->bias}, {DNNL_ARG_DST, c->dst}};
    CDNNL_TRY(cdnnl_execute(c->prim, s, 4, args, c->scratchpad));
    return dnnl_stream_wait(s);
}

#undef CDNNL_TRY
#undef CDNNL_NS
#endif
