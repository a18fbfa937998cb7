/* Core: status table, error detail, allocator hooks, thread pool, record basics. */
#include "test.h"
#include "core/core_int.h"
#include "core/sbuf.h"

#include <stdatomic.h>

static void status_names(void) {
    CHECK_STR(aiecg_status_name(AIECG_OK), "OK");
    CHECK_STR(aiecg_status_name(AIECG_ERR_CHECKSUM), "ERR_CHECKSUM");
    CHECK_STR(aiecg_strerror(AIECG_ERR_NOMEM), "out of memory");
    CHECK_STR(aiecg_status_name((aiecg_status)-999), "UNKNOWN");
}

static void error_detail(void) {
    aiecg_error e;
    aiecg_error_clear(&e);
    CHECK_INT(aiecg__error_set(&e, AIECG_ERR_FORMAT, "field %s at byte %d", "fs", 12), AIECG_ERR_FORMAT);
    CHECK_STR(e.message, "field fs at byte 12");
    aiecg__error_prefix(&e, "x.hea");
    CHECK_STR(e.message, "x.hea: field fs at byte 12");
    CHECK_INT(aiecg__error_set(NULL, AIECG_ERR_IO, "ignored"), AIECG_ERR_IO);
}

static atomic_int sum;
static void add_task(void *ctx, int task, int thread) {
    (void)ctx;
    (void)thread;
    atomic_fetch_add(&sum, task);
}

static void threadpool(void) {
    for (int n = 1; n <= 4; n++) {
        aiecg_threadpool *p;
        CHECK_OK(aiecg_threadpool_new(n, &p), NULL);
        CHECK_INT(aiecg_threadpool_size(p), n);
        for (int rep = 0; rep < 50; rep++) {
            atomic_store(&sum, 0);
            aiecg_threadpool_parallel_for(p, 1000, add_task, NULL);
            CHECK_INT(atomic_load(&sum), 999 * 1000 / 2);
        }
        aiecg_threadpool_free(p);
    }
    aiecg_threadpool_free(NULL);
}

static int fail_after = -1;
static void *counting_malloc(size_t n) {
    if (fail_after == 0) return NULL;
    if (fail_after > 0) fail_after--;
    return malloc(n);
}

static void record_oom(void) {
    /* Fail the Nth allocation for every N: the constructor must report NOMEM and leak nothing. */
    for (int n = 0; n < 8; n++) {
        fail_after = n;
        aiecg_set_allocator(counting_malloc, realloc, free);
        aiecg_record *r = NULL;
        aiecg_status s = aiecg_record_new(12, 5000, 500, 1, &r, NULL);
        aiecg_set_allocator(NULL, NULL, NULL);
        if (s == AIECG_OK) {
            aiecg_record_free(r);
        } else {
            CHECK_INT(s, AIECG_ERR_NOMEM);
            CHECK(r == NULL);
        }
    }
    fail_after = -1;
}

static void record_limits(void) {
    aiecg_record *r;
    aiecg_error e;
    CHECK_INT(aiecg_record_new(0, 10, 500, 0, &r, &e), AIECG_ERR_RANGE);
    CHECK_INT(aiecg_record_new(10000, 10, 500, 0, &r, &e), AIECG_ERR_RANGE);
    CHECK_INT(aiecg_record_new(12, (int64_t)1e12, 500, 0, &r, &e), AIECG_ERR_LIMIT);
    CHECK_INT(aiecg_record_new(12, 100, 0, 0, &r, &e), AIECG_ERR_RANGE);
    CHECK(strstr(e.message, "sampling rate") != NULL);
}

static void derive_limb(void) {
    aiecg_record *r;
    CHECK_OK(aiecg_record_new(2, 4, 500, 0, &r, NULL), NULL);
    aiecg_lead_info a = {.label = "I"}, b = {.label = "Lead II"};
    CHECK_OK(aiecg_record_set_lead(r, 0, &a), NULL);
    CHECK_OK(aiecg_record_set_lead(r, 1, &b), NULL);
    float *I = aiecg_record_lead_data_mut(r, 0), *II = aiecg_record_lead_data_mut(r, 1);
    for (int i = 0; i < 4; i++) {
        I[i] = 0.5f * i;
        II[i] = 1.0f + i;
    }
    int added;
    CHECK_OK(aiecg_record_derive_limb_leads(r, &added), NULL);
    CHECK_INT(added, 4);
    CHECK_INT(aiecg_record_nleads(r), 6);
    int iii = aiecg_record_find_lead(r, AIECG_LEAD_III), avr = aiecg_record_find_lead(r, AIECG_LEAD_AVR);
    CHECK(iii >= 0 && avr >= 0);
    CHECK_NEAR(aiecg_record_lead_data(r, iii)[2], 3.0 - 1.0, 1e-6);
    CHECK_NEAR(aiecg_record_lead_data(r, avr)[2], -0.5 * (1.0 + 3.0), 1e-6);
    aiecg_record_free(r);
}

static void lead_parse(void) {
    CHECK_INT(aiecg_lead_parse("MDC_ECG_LEAD_AVR"), AIECG_LEAD_AVR);
    CHECK_INT(aiecg_lead_parse("avl"), AIECG_LEAD_AVL);
    CHECK_INT(aiecg_lead_parse("Lead V5"), AIECG_LEAD_V5);
    CHECK_INT(aiecg_lead_parse("MLII"), AIECG_LEAD_MLII);
    CHECK_INT(aiecg_lead_parse("resp"), AIECG_LEAD_UNKNOWN);
}

static void json_writer(void) {
    aiecg__sbuf b;
    aiecg__sbuf_init(&b);
    aiecg__jw w;
    aiecg__jw_init(&w, &b, false);
    aiecg__jw_obj_begin(&w);
    aiecg__jw_key(&w, "a");
    aiecg__jw_int(&w, 1);
    aiecg__jw_key(&w, "b");
    aiecg__jw_arr_begin(&w);
    aiecg__jw_num(&w, 0.5);
    aiecg__jw_str(&w, "x\"y");
    aiecg__jw_num(&w, NAN);
    aiecg__jw_arr_end(&w);
    aiecg__jw_key(&w, "c");
    aiecg__jw_obj_begin(&w);
    aiecg__jw_obj_end(&w);
    aiecg__jw_obj_end(&w);
    char *s = aiecg__sbuf_take(&b);
    CHECK_STR(s, "{\"a\":1,\"b\":[0.5,\"x\\\"y\",null],\"c\":{}}");
    aiecg_free(s);
}

int main(void) {
    RUN(status_names);
    RUN(error_detail);
    RUN(threadpool);
    RUN(record_oom);
    RUN(record_limits);
    RUN(derive_limb);
    RUN(lead_parse);
    RUN(json_writer);
    return test_summary();
}
