/*
 * The statement catalogue: every interpretive statement aiecg can make, in one
 * X-macro table. Codes are the SCP-ECG statement acronyms (EN 1064 / ISO
 * 11073-91064 annex) as PTB-XL uses them (scp_statements.csv, Wagner et al.
 * 2020), so model labels map one to one; the few statements PTB-XL lacks
 * (axis deviation, technically limited recording) are aiecg extensions with
 * ptbxl_kind 0. SNOMED CT concept ids come from the PhysioNet/CinC Challenge
 * 2020 diagnosis map (Dx_map.csv / dx_mapping_scored.csv); where that map has
 * no concept that means the same thing the id is NULL rather than a guess.
 */
#include "interp_int.h"

#include <string.h>

/* ptbxl kind bits */
#define D 1
#define F 2
#define R 4

/* X(code, group, snomed, text, ptbxl_kind) */
#define AIECG__STMT_LIST(X)                                                                        \
    X("NORM", "normal", NULL, "Normal ECG", D)                                                     \
    X("SR", "rhythm", "426783006", "Sinus rhythm", R)                                              \
    X("SBRAD", "rhythm", "426177001", "Sinus bradycardia", R)                                      \
    X("STACH", "rhythm", "427084000", "Sinus tachycardia", R)                                      \
    X("SARRH", "rhythm", "427393009", "Sinus arrhythmia", R)                                       \
    X("AFIB", "rhythm", "164889003", "Atrial fibrillation", R)                                     \
    X("AFLT", "rhythm", "164890007", "Atrial flutter", R)                                          \
    X("SVARR", "rhythm", NULL, "Supraventricular arrhythmia", R)                                   \
    X("SVTAC", "rhythm", "426761007", "Supraventricular tachycardia", R)                           \
    X("PSVT", "rhythm", "67198005", "Paroxysmal supraventricular tachycardia", R)                  \
    X("PACE", "rhythm", "10370003", "Paced rhythm (artificial pacemaker)", R)                      \
    X("BIGU", "rhythm", NULL, "Bigeminal pattern (supraventricular or ventricular)", R)            \
    X("TRIGU", "rhythm", NULL, "Trigeminal pattern (supraventricular or ventricular)", R)          \
    X("PVC", "rhythm", "427172004", "Ventricular premature complex(es)", F)                        \
    X("PAC", "rhythm", "284470004", "Atrial premature complex(es)", F)                             \
    X("PRC(S)", "rhythm", NULL, "Premature complex(es)", F)                                        \
    X("1AVB", "conduction", "270492004", "First-degree AV block", D)                               \
    X("2AVB", "conduction", "195042002", "Second-degree AV block", D)                              \
    X("3AVB", "conduction", "27885002", "Third-degree (complete) AV block", D)                     \
    X("LPR", "interval", "164947007", "Prolonged PR interval", F)                                  \
    X("CLBBB", "conduction", "733534002", "Complete left bundle branch block", D)                  \
    X("CRBBB", "conduction", "713427006", "Complete right bundle branch block", D)                 \
    X("ILBBB", "conduction", "251120003", "Incomplete left bundle branch block", D)                \
    X("IRBBB", "conduction", "713426002", "Incomplete right bundle branch block", D)               \
    X("IVCD", "conduction", "698252002", "Non-specific intraventricular conduction delay", D)      \
    X("LAFB", "conduction", "445118002", "Left anterior fascicular block", D)                      \
    X("LPFB", "conduction", "445211001", "Left posterior fascicular block", D)                     \
    X("WPW", "conduction", "74390002", "Wolff-Parkinson-White pattern", D)                         \
    X("LAD", "axis", "39732003", "Left axis deviation", 0)                                         \
    X("RAD", "axis", "47665007", "Right axis deviation", 0)                                        \
    X("LVH", "hypertrophy", "164873001", "Left ventricular hypertrophy", D)                        \
    X("VCLVH", "hypertrophy", NULL, "Voltage criteria (QRS) for left ventricular hypertrophy", F)  \
    X("RVH", "hypertrophy", "89792004", "Right ventricular hypertrophy", D)                        \
    X("SEHYP", "hypertrophy", NULL, "Septal hypertrophy", D)                                       \
    X("LAO/LAE", "hypertrophy", "67741000119109", "Left atrial overload/enlargement", D)           \
    X("RAO/RAE", "hypertrophy", "253339007", "Right atrial overload/enlargement", D)               \
    X("HVOLT", "voltage", NULL, "High QRS voltage", F)                                             \
    X("LVOLT", "voltage", "251146004", "Low QRS voltage", F)                                       \
    X("IMI", "infarction", NULL, "Inferior myocardial infarction", D)                              \
    X("ILMI", "infarction", NULL, "Inferolateral myocardial infarction", D)                        \
    X("IPMI", "infarction", NULL, "Inferoposterior myocardial infarction", D)                      \
    X("IPLMI", "infarction", NULL, "Inferoposterolateral myocardial infarction", D)                \
    X("AMI", "infarction", "54329005", "Anterior myocardial infarction", D)                        \
    X("ASMI", "infarction", NULL, "Anteroseptal myocardial infarction", D)                         \
    X("ALMI", "infarction", NULL, "Anterolateral myocardial infarction", D)                        \
    X("LMI", "infarction", NULL, "Lateral myocardial infarction", D)                               \
    X("PMI", "infarction", NULL, "Posterior myocardial infarction", D)                             \
    X("INJAS", "infarction", NULL, "Subendocardial injury in anteroseptal leads", D)               \
    X("INJAL", "infarction", NULL, "Subendocardial injury in anterolateral leads", D)              \
    X("INJIN", "infarction", NULL, "Subendocardial injury in inferior leads", D)                   \
    X("INJLA", "infarction", NULL, "Subendocardial injury in lateral leads", D)                    \
    X("INJIL", "infarction", NULL, "Subendocardial injury in inferolateral leads", D)              \
    X("QWAVE", "form", "164917005", "Q waves present", F)                                          \
    X("ABQRS", "form", NULL, "Abnormal QRS", F)                                                    \
    X("ISC_", "st-t", "164861001", "Non-specific ischemic changes", D)                             \
    X("ISCAL", "st-t", NULL, "Ischemic changes in anterolateral leads", D)                         \
    X("ISCAS", "st-t", NULL, "Ischemic changes in anteroseptal leads", D)                          \
    X("ISCAN", "st-t", "426434006", "Ischemic changes in anterior leads", D)                       \
    X("ISCLA", "st-t", "425623009", "Ischemic changes in lateral leads", D)                        \
    X("ISCIN", "st-t", "425419005", "Ischemic changes in inferior leads", D)                       \
    X("ISCIL", "st-t", NULL, "Ischemic changes in inferolateral leads", D)                         \
    X("NST_", "st-t", NULL, "Non-specific ST changes", D | F)                                      \
    X("NDT", "st-t", NULL, "Non-diagnostic T abnormalities", D | F)                                \
    X("DIG", "st-t", NULL, "Suggests digitalis effect", D | F)                                     \
    X("LNGQT", "interval", "111975006", "Prolonged QT interval", D | F)                            \
    X("ANEUR", "st-t", NULL, "ST-T changes compatible with ventricular aneurysm", D)               \
    X("EL", "st-t", NULL, "Electrolyte disturbance or drug effect", D)                             \
    X("STD_", "st-t", "429622005", "Non-specific ST depression", F)                                \
    X("STE_", "st-t", "164931005", "Non-specific ST elevation", F)                                 \
    X("TAB_", "st-t", "164934002", "T-wave abnormality", F)                                        \
    X("INVT", "st-t", "59931005", "Inverted T waves", F)                                           \
    X("LOWT", "st-t", NULL, "Low-amplitude T waves", F)                                            \
    X("NT_", "st-t", NULL, "Non-specific T-wave changes", F)                                       \
    X("TECHLIM", "quality", NULL, "Technically limited ECG: interpretation withheld", 0)          \
    X("LIMBREV", "quality", "251139008", "Suspected limb-lead reversal", 0)

static const aiecg__stmt_def catalogue[] = {
#define AIECG__STMT_ROW(code, group, snomed, text, kind) {code, group, snomed, text, kind},
    AIECG__STMT_LIST(AIECG__STMT_ROW)
#undef AIECG__STMT_ROW
};

#undef D
#undef F
#undef R

const aiecg__stmt_def *aiecg__stmt_find(const char *code) {
    if (!code) return NULL;
    for (size_t i = 0; i < AIECG__COUNTOF(catalogue); i++)
        if (strcmp(catalogue[i].code, code) == 0) return &catalogue[i];
    return NULL;
}

int aiecg__stmt_count(void) { return (int)AIECG__COUNTOF(catalogue); }

const aiecg__stmt_def *aiecg__stmt_at(int i) {
    return i >= 0 && i < (int)AIECG__COUNTOF(catalogue) ? &catalogue[i] : NULL;
}

const char *aiecg_statement_source_name(aiecg_statement_source s) {
    switch (s) {
    case AIECG_SOURCE_MODEL: return "model";
    case AIECG_SOURCE_RULE: return "rule";
    case AIECG_SOURCE_MODEL_RULE: return "model+rule";
    }
    return "?";
}
