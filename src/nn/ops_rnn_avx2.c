/*
 * AVX2/FMA build of the LSTM / GRU / RNN fast path: rnn_fast.h compiled with
 * -mavx2 -mfma (CMakeLists gives *_avx2.c those flags), so the gate blocks,
 * the branch-free exp and the per-step row kernel run 8 lanes wide. Chosen by
 * ops_rnn.c when the CPU has AVX2 and FMA; the plain C build of the same
 * source is its twin (test_nn_rnn runs both).
 */
#include "rnn_fast.h"

void aiecg__rnn_direction_avx2(const rnn_ctx *r, aiecg__nn_exec *x, int64_t d, const float *xp, int64_t ldx,
                               float *ws) {
    run_direction(r, x, d, xp, ldx, ws);
}
