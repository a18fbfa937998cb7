/*
 * A record described as JSON: the body of `aiecg info`, kept in the library
 * so that servers print the same thing as the CLI. Only the public record
 * accessors are used, so it describes a record from any reader. The
 * "checksums" verdict summarises per-lead states: "mismatch" if any lead's
 * checksum failed, "verified" if at least one lead had one and none failed,
 * "absent" if the file carried none.
 */
#include "io_int.h"
#include "../core/sbuf.h"

#include <stdio.h>
#include <string.h>

static const char *ck_name(aiecg_checksum_state s) {
    switch (s) {
    case AIECG_CHECKSUM_OK: return "ok";
    case AIECG_CHECKSUM_BAD: return "mismatch";
    default: return "absent";
    }
}

aiecg_status aiecg_record_info_json(const aiecg_record *rec, char **json) {
    if (json) *json = NULL;
    if (!rec || !json) return AIECG_ERR_INVALID_ARG;
    aiecg__sbuf b;
    aiecg__sbuf_init(&b);
    aiecg__jw w;
    aiecg__jw_init(&w, &b, true);
    aiecg_record_meta m;
    aiecg_record_meta_get(rec, &m);
    aiecg__jw_obj_begin(&w);
    aiecg__jw_key(&w, "format");
    aiecg__jw_str(&w, m.format);
    aiecg__jw_key(&w, "record");
    aiecg__jw_str(&w, m.record_name);
    aiecg__jw_key(&w, "fs");
    aiecg__jw_num(&w, aiecg_record_fs(rec));
    aiecg__jw_key(&w, "nsamples");
    aiecg__jw_int(&w, aiecg_record_nsamples(rec));
    aiecg__jw_key(&w, "duration_s");
    aiecg__jw_num(&w, aiecg_record_duration(rec));
    aiecg__jw_key(&w, "nleads");
    aiecg__jw_int(&w, aiecg_record_nleads(rec));
    aiecg__jw_key(&w, "has_adc");
    aiecg__jw_bool(&w, aiecg_record_lead_adc(rec, 0) != NULL);

    int nok = 0, nbad = 0;
    aiecg__jw_key(&w, "leads");
    aiecg__jw_arr_begin(&w);
    for (int l = 0; l < aiecg_record_nleads(rec); l++) {
        aiecg_lead_info li;
        aiecg_record_lead_info(rec, l, &li);
        aiecg__jw_obj_begin(&w);
        aiecg__jw_key(&w, "label");
        aiecg__jw_str(&w, li.label);
        aiecg__jw_key(&w, "lead");
        aiecg__jw_str(&w, aiecg_lead_name(li.lead));
        aiecg__jw_key(&w, "units");
        aiecg__jw_str(&w, li.units);
        aiecg__jw_key(&w, "gain");
        aiecg__jw_num(&w, li.gain);
        aiecg__jw_key(&w, "baseline");
        aiecg__jw_int(&w, li.baseline);
        aiecg__jw_key(&w, "adc_resolution");
        aiecg__jw_int(&w, li.adc_resolution);
        aiecg__jw_key(&w, "adc_zero");
        aiecg__jw_int(&w, li.adc_zero);
        aiecg__jw_key(&w, "initial_value");
        aiecg__jw_int(&w, li.initial_value);
        aiecg__jw_key(&w, "checksum_state");
        aiecg__jw_str(&w, ck_name(li.checksum_state));
        if (li.derived) {
            aiecg__jw_key(&w, "derived");
            aiecg__jw_bool(&w, true);
        }
        aiecg__jw_obj_end(&w);
        if (li.checksum_state == AIECG_CHECKSUM_OK) nok++;
        if (li.checksum_state == AIECG_CHECKSUM_BAD) nbad++;
    }
    aiecg__jw_arr_end(&w);

    aiecg__jw_key(&w, "metadata");
    aiecg__jw_obj_begin(&w);
    aiecg__jw_key(&w, "patient_id");
    aiecg__jw_str(&w, m.patient_id);
    aiecg__jw_key(&w, "age");
    if (m.age >= 0) aiecg__jw_int(&w, m.age);
    else aiecg__jw_null(&w);
    aiecg__jw_key(&w, "sex");
    char sex[2] = {m.sex, 0};
    if (m.sex == 'M' || m.sex == 'F') aiecg__jw_str(&w, sex);
    else aiecg__jw_null(&w);
    aiecg__jw_key(&w, "start_time");
    if (m.has_start_time) {
        char t[64];
        snprintf(t, sizeof t, "%04d-%02d-%02dT%02d:%02d:%06.3f", m.year, m.month, m.day, m.hour,
                 m.minute, m.second);
        aiecg__jw_str(&w, t);
    } else {
        aiecg__jw_null(&w);
    }
    aiecg__jw_key(&w, "device");
    aiecg__jw_str(&w, m.device);
    aiecg__jw_obj_end(&w);

    /* annotation counts by mnemonic, in code order */
    int64_t counts[50] = {0}, other = 0, beats = 0;
    const aiecg_annotation *a = aiecg_record_annotations(rec);
    int64_t na = aiecg_record_nannotations(rec);
    for (int64_t i = 0; i < na; i++) {
        if (a[i].code >= 0 && a[i].code < 50) counts[a[i].code]++;
        else other++;
        if (aiecg_annotation_is_beat(a[i].code)) beats++;
    }
    aiecg__jw_key(&w, "annotations");
    aiecg__jw_obj_begin(&w);
    aiecg__jw_key(&w, "total");
    aiecg__jw_int(&w, na);
    aiecg__jw_key(&w, "beats");
    aiecg__jw_int(&w, beats);
    aiecg__jw_key(&w, "by_code");
    aiecg__jw_obj_begin(&w);
    for (int c = 0; c < 50; c++)
        if (counts[c]) {
            aiecg__jw_key(&w, aiecg_annotation_code_name(c));
            aiecg__jw_int(&w, counts[c]);
        }
    if (other) {
        aiecg__jw_key(&w, "other");
        aiecg__jw_int(&w, other);
    }
    aiecg__jw_obj_end(&w);
    aiecg__jw_obj_end(&w);

    aiecg__jw_key(&w, "statements");
    aiecg__jw_int(&w, aiecg_record_nstatements(rec));
    aiecg__jw_key(&w, "checksums");
    aiecg__jw_str(&w, nbad ? "mismatch" : nok ? "verified" : "absent");
    aiecg__jw_obj_end(&w);
    aiecg__sbuf_puts(&b, "\n");
    char *s = aiecg__sbuf_take(&b);
    if (!s) return AIECG_ERR_NOMEM;
    *json = s;
    return AIECG_OK;
}
