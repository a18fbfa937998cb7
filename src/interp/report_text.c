/*
 * Plain-text report for terminals: who and what was recorded, the signal
 * quality, the measurement table (value or the reason it is missing) and the
 * statements with their source and evidence, so a reader can see why each
 * statement was made. 80 columns, ASCII only.
 */
#include "interp_int.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

static const char *meas_label(aiecg_measurement m) {
    switch (m) {
    case AIECG_MEAS_HR: return "Heart rate";
    case AIECG_MEAS_ATRIAL_RATE: return "Atrial rate";
    case AIECG_MEAS_RR_MEAN: return "RR mean";
    case AIECG_MEAS_RR_SD: return "RR SD";
    case AIECG_MEAS_RR_MIN: return "RR min";
    case AIECG_MEAS_RR_MAX: return "RR max";
    case AIECG_MEAS_P_DUR: return "P duration";
    case AIECG_MEAS_PR: return "PR interval";
    case AIECG_MEAS_QRS_DUR: return "QRS duration";
    case AIECG_MEAS_QT: return "QT interval";
    case AIECG_MEAS_QTC_BAZETT: return "QTc Bazett";
    case AIECG_MEAS_QTC_FRIDERICIA: return "QTc Fridericia";
    case AIECG_MEAS_QTC_FRAMINGHAM: return "QTc Framingham";
    case AIECG_MEAS_QTC_HODGES: return "QTc Hodges";
    case AIECG_MEAS_P_AXIS: return "P axis";
    case AIECG_MEAS_QRS_AXIS: return "QRS axis";
    case AIECG_MEAS_T_AXIS: return "T axis";
    case AIECG_MEAS_SOKOLOW_LYON: return "Sokolow-Lyon";
    case AIECG_MEAS_CORNELL: return "Cornell";
    default: return "?";
    }
}

aiecg_status aiecg_result_text(const aiecg_result *r, char **out) {
    if (!r || !out) return AIECG_ERR_INVALID_ARG;
    aiecg__sbuf b;
    aiecg__sbuf_init(&b);
    aiecg__sbuf_printf(&b, "aiecg %s ECG interpretation\n", aiecg_version());
    aiecg__sbuf_puts(&b, "==============================================================================\n");
    aiecg__sbuf_printf(&b, "Record    %s%s%s%s\n", r->record_name && r->record_name[0] ? r->record_name : "(unnamed)",
                       r->source ? "  (" : "", r->source ? r->source : "", r->source ? ")" : "");
    char age[16] = "unknown";
    if (r->age >= 0) snprintf(age, sizeof age, "%d", r->age);
    aiecg__sbuf_printf(&b, "Patient   id %s, age %s, sex %s\n",
                       r->patient_id && r->patient_id[0] ? r->patient_id : "-", age,
                       r->sex == 'M' ? "male" : r->sex == 'F' ? "female" : "unknown");
    if (r->has_start_time)
        aiecg__sbuf_printf(&b, "Recorded  %04d-%02d-%02d %02d:%02d:%02d\n", r->year, r->month, r->day, r->hour,
                           r->minute, (int)r->second);
    aiecg__sbuf_printf(&b, "Signal    %d leads (", r->nleads);
    for (int l = 0; l < r->nleads; l++)
        aiecg__sbuf_printf(&b, "%s%s%s", l ? " " : "", r->lead_names[l], r->lead_derived[l] ? "*" : "");
    aiecg__sbuf_printf(&b, "), %.0f Hz, %.1f s, format %s\n", r->fs, r->duration_s,
                       r->format && r->format[0] ? r->format : "?");
    char flags[160];
    aiecg__quality_flags_string(r->quality.flags, flags, sizeof flags);
    aiecg__sbuf_printf(&b, "Quality   %s%s%s%s\n", aiecg__quality_verdict_name(r->quality.verdict),
                       flags[0] ? " (" : "", flags, flags[0] ? ")" : "");
    int nflag = 0, col = 0;
    for (int l = 0; l < r->quality.nleads && l < r->nleads; l++) {
        const aiecg_lead_quality *q = &r->quality.lead[l];
        if (!q->flags && q->verdict == AIECG_QUALITY_GOOD) continue;
        char lf[160], item[256];
        aiecg__quality_flags_string(q->flags, lf, sizeof lf);
        int n = snprintf(item, sizeof item, "%s %s%s%s", r->lead_names[l], aiecg__quality_verdict_name(q->verdict),
                         lf[0] ? " " : "", lf);
        if (!nflag) {
            aiecg__sbuf_puts(&b, "          leads: ");
            col = 17;
        } else if (col + n + 2 > 78) {
            aiecg__sbuf_puts(&b, ",\n                 ");
            col = 17;
        } else {
            aiecg__sbuf_puts(&b, ", ");
            col += 2;
        }
        aiecg__sbuf_puts(&b, item);
        col += n;
        nflag++;
    }
    if (nflag) aiecg__sbuf_puts(&b, "\n");
    if (r->quality_notes[0]) aiecg__sbuf_printf(&b, "          %s\n", r->quality_notes);
    if (r->model_name)
        aiecg__sbuf_printf(&b, "Model     %s%s%s, leads %s, %d window%s (%s), %s\n", r->model_name,
                           r->model_version ? " v" : "", r->model_version ? r->model_version : "", r->model_leads,
                           r->nwindows, r->nwindows == 1 ? "" : "s", r->aggregation,
                           r->model_backend ? r->model_backend : "");
    else
        aiecg__sbuf_printf(&b, "Model     none (%s): rules only\n", r->model_note[0] ? r->model_note : "not run");

    aiecg__sbuf_puts(&b, "\nMeasurements\n------------------------------------------------------------------------------\n");
    for (int m = 0; m < AIECG_MEAS_COUNT; m++) {
        double v = r->meas.value[m];
        const char *unit = aiecg_measurement_unit((aiecg_measurement)m);
        if (isfinite(v))
            aiecg__sbuf_printf(&b, "  %-16s %8.*f %s\n", meas_label((aiecg_measurement)m),
                               strcmp(unit, "mV") == 0 ? 2 : 0, v, unit);
        else
            aiecg__sbuf_printf(&b, "  %-16s %8s %-4s (%s)\n", meas_label((aiecg_measurement)m), "-", unit,
                               r->meas.reason[m] ? r->meas.reason[m] : "not measurable");
    }
    aiecg__sbuf_printf(&b, "  %-16s %8lld\n", "Beats detected", (long long)r->nbeats);

    aiecg__sbuf_puts(&b, "\nInterpretation\n------------------------------------------------------------------------------\n");
    if (r->nstmts == 0) aiecg__sbuf_puts(&b, "  (no statement)\n");
    for (int i = 0; i < r->nstmts; i++) {
        const aiecg_statement *s = &r->stmts[i].pub;
        aiecg__sbuf_printf(&b, "  %-52s [%s]\n", s->text, s->code);
        aiecg__sbuf_printf(&b, "      %s: %s\n", aiecg_statement_source_name(s->source),
                           s->evidence && s->evidence[0] ? s->evidence : "-");
    }
    aiecg__sbuf_puts(&b, "\nComputer interpretation; to be confirmed by a physician.\n");
    *out = aiecg__sbuf_take(&b);
    return *out ? AIECG_OK : AIECG_ERR_NOMEM;
}
