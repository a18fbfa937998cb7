/*
 * The reader contract every record fuzz target checks (include/aiecg/io.h):
 * success gives a record whose every lead, sample count, annotation and info
 * JSON can be used; failure gives a negative status, no record and a
 * message. A break of the contract aborts, so libFuzzer keeps the input.
 */
#ifndef AIECG_FUZZ_CHECK_H
#define AIECG_FUZZ_CHECK_H

#include <stdlib.h>

#include "aiecg/aiecg.h"

/* Takes ownership of r. */
static void fuzz_check_read(aiecg_status st, aiecg_record *r, const aiecg_error *err) {
    if (st != AIECG_OK) {
        if (r || st >= 0 || !err->message[0]) abort();
        return;
    }
    if (!r) abort();
    aiecg_record_meta m;
    aiecg_record_meta_get(r, &m);
    (void)aiecg_record_duration(r);
    char *js = NULL;
    if (aiecg_record_info_json(r, &js) == AIECG_OK) aiecg_free(js);
    int64_t n = aiecg_record_nsamples(r);
    if (n < 0 || aiecg_record_nleads(r) < 0 || aiecg_record_nleads(r) > AIECG_MAX_LEADS) abort();
    for (int l = 0; l < aiecg_record_nleads(r); l++) {
        const float *d = aiecg_record_lead_data(r, l);
        volatile float s = n > 0 ? d[0] : 0.0f, t = n > 0 ? d[n - 1] : 0.0f;
        (void)t;
        (void)s;
    }
    int64_t na = aiecg_record_nannotations(r);
    const aiecg_annotation *a = aiecg_record_annotations(r);
    if (na > 0) {
        volatile int64_t s = a[0].sample ^ a[na - 1].sample;
        (void)s;
    }
    aiecg_record_free(r);
}

#endif
