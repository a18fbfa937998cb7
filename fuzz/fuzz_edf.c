/*
 * libFuzzer target for the edf reader: any bytes must give a record or an
 * error, never a crash, a leak or an unbounded allocation.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "aiecg/aiecg.h"
#include "io/edf_int.h"
#include "fuzz_check.h"

/*
 * Besides reading, every annotation read is put through the shared text
 * form (edf_int.h) and back: the decoder must return what the encoder wrote.
 */
static void text_round_trip(const aiecg_annotation *a) {
    aiecg__sbuf b;
    aiecg__sbuf_init(&b);
    aiecg__ann_to_text(&b, a);
    if (b.oom || !b.data) {
        aiecg__sbuf_free(&b);
        return;
    }
    char *scratch = aiecg__malloc(b.len + 1);
    if (scratch) {
        aiecg_annotation c = {0};
        aiecg__ann_from_text(b.data, b.len, scratch, &c);
        int code = (a->code >= 1 && a->code < 50) ? a->code : 22;
        if (c.code != code || c.subtype != a->subtype || c.channel != a->channel || c.num != a->num ||
            (a->aux && (!c.aux || strcmp(c.aux, a->aux) != 0)))
            __builtin_trap();
        aiecg__free(scratch);
    }
    aiecg__sbuf_free(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    aiecg_read_options o = aiecg_read_options_default();
    o.format = AIECG_FORMAT_EDF;
    o.derive_limb_leads = 1;
    aiecg_record *r = NULL;
    aiecg_error err;
    aiecg_error_clear(&err);
    aiecg_status st = aiecg_record_read_memory(data, size, "fuzz.edf", &o, &r, &err);
    if (st == AIECG_OK) {
        const aiecg_annotation *a = aiecg_record_annotations(r);
        for (int64_t i = 0; i < aiecg_record_nannotations(r) && i < 64; i++) text_round_trip(&a[i]);
    }
    fuzz_check_read(st, r, &err);
    return 0;
}
