/*
 * Minimal test harness: each tests/test_*.c has a main() that RUNs its cases.
 * A failed check prints file:line and both values and the case continues;
 * the process ends with the plain line "N passed, N failed" and exit 1 on any
 * failure, 77 (ctest SKIP) when a needed data set is absent.
 */
#ifndef AIECG_TEST_H
#define AIECG_TEST_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aiecg/aiecg.h"

static int test_failures_ = 0, test_cases_passed_ = 0, test_cases_failed_ = 0;

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "%s:%d: CHECK(%s) failed\n", __FILE__, __LINE__, #cond);              \
            test_failures_++;                                                                      \
        }                                                                                          \
    } while (0)

#define CHECK_INT(a, b)                                                                            \
    do {                                                                                           \
        long long va_ = (long long)(a), vb_ = (long long)(b);                                      \
        if (va_ != vb_) {                                                                          \
            fprintf(stderr, "%s:%d: %s == %s failed: %lld vs %lld\n", __FILE__, __LINE__, #a, #b,  \
                    va_, vb_);                                                                     \
            test_failures_++;                                                                      \
        }                                                                                          \
    } while (0)

#define CHECK_NEAR(a, b, tol)                                                                      \
    do {                                                                                           \
        double va_ = (double)(a), vb_ = (double)(b);                                               \
        if (!(fabs(va_ - vb_) <= (tol))) {                                                         \
            fprintf(stderr, "%s:%d: |%s - %s| <= %g failed: %.9g vs %.9g\n", __FILE__, __LINE__, #a, \
                    #b, (double)(tol), va_, vb_);                                                  \
            test_failures_++;                                                                      \
        }                                                                                          \
    } while (0)

#define CHECK_STR(a, b)                                                                            \
    do {                                                                                           \
        const char *sa_ = (a), *sb_ = (b);                                                         \
        if (!sa_ || !sb_ || strcmp(sa_, sb_) != 0) {                                               \
            fprintf(stderr, "%s:%d: %s == %s failed: \"%s\" vs \"%s\"\n", __FILE__, __LINE__, #a,  \
                    #b, sa_ ? sa_ : "(null)", sb_ ? sb_ : "(null)");                               \
            test_failures_++;                                                                      \
        }                                                                                          \
    } while (0)

/* Checks a status expression is AIECG_OK, printing the error detail if not. */
#define CHECK_OK(expr, errp)                                                                       \
    do {                                                                                           \
        aiecg_status st_ = (expr);                                                                 \
        if (st_ != AIECG_OK) {                                                                     \
            fprintf(stderr, "%s:%d: %s -> %s: %s\n", __FILE__, __LINE__, #expr,                    \
                    aiecg_status_name(st_), (errp) ? ((aiecg_error *)(errp))->message : "");       \
            test_failures_++;                                                                      \
        }                                                                                          \
    } while (0)

#define RUN(fn)                                                                                    \
    do {                                                                                           \
        int before_ = test_failures_;                                                              \
        fn();                                                                                      \
        if (test_failures_ == before_) {                                                           \
            test_cases_passed_++;                                                                  \
        } else {                                                                                   \
            test_cases_failed_++;                                                                  \
            fprintf(stderr, "FAIL %s\n", #fn);                                                     \
        }                                                                                          \
    } while (0)

static inline int test_summary(void) {
    printf("%d passed, %d failed\n", test_cases_passed_, test_cases_failed_);
    return test_cases_failed_ ? 1 : 0;
}

/*
 * Path of a data set under AIECG_DATA_DIR ("mitdb" -> ".../data/mitdb").
 * Exits 77 (skip) when the data set is absent, unless AIECG_REQUIRE_DATA=1
 * (CI sets it), where absence is a failure.
 */
static inline const char *test_data_path(const char *set, char *buf, size_t size) {
    const char *root = getenv("AIECG_DATA_DIR");
    snprintf(buf, size, "%s/%s", root ? root : "data", set);
    FILE *f = NULL;
    char probe[4200];
    snprintf(probe, sizeof probe, "%s/.", buf);
    f = fopen(buf, "r");
    if (!f) {
        const char *req = getenv("AIECG_REQUIRE_DATA");
        fprintf(stderr, "data set %s not found at %s\n", set, buf);
        exit(req && req[0] == '1' ? 1 : 77);
    }
    fclose(f);
    return buf;
}

/*
 * Allocation-failure injection for a reader: aiecg_record_read_memory with the Nth allocation failing,
 * for every N until the read succeeds; each failure must be AIECG_ERR_NOMEM with no record.
 */
static inline long *test_oom_left_(void) {
    static long left; /* allocations still allowed to succeed */
    return &left;
}
static inline void *test_oom_malloc_(size_t n) { return (*test_oom_left_())-- > 0 ? malloc(n) : NULL; }
static inline void *test_oom_realloc_(void *p, size_t n) { return (*test_oom_left_())-- > 0 ? realloc(p, n) : NULL; }

static inline void test_oom_sweep_read(const void *data, size_t n, aiecg_format f) {
    aiecg_read_options o = aiecg_read_options_default();
    o.format = f;
    o.derive_limb_leads = 1;
    int done = 0;
    for (long k = 0; k < 100000 && !done; k++) {
        aiecg_record *r = NULL;
        aiecg_error err = {0};
        *test_oom_left_() = k;
        aiecg_set_allocator(test_oom_malloc_, test_oom_realloc_, free);
        aiecg_status s = aiecg_record_read_memory(data, n, "oom", &o, &r, &err);
        aiecg_set_allocator(NULL, NULL, NULL);
        if (s == AIECG_OK) {
            done = 1;
            CHECK(r != NULL);
        } else if (s != AIECG_ERR_NOMEM) {
            fprintf(stderr, "allocation %ld failing gave %s: %s\n", k, aiecg_status_name(s), err.message);
            CHECK_INT(s, AIECG_ERR_NOMEM);
            done = 1;
        }
        aiecg_record_free(r);
    }
    CHECK(done);
}

#endif
