/*
 * EC57 beat-by-beat matcher: hand-made cases with known TP/FN/FP (window
 * edges, competing detections, the scoring start), and the `aiecg eval qrs`
 * command on one MIT-BIH record compared with the library figures.
 */
#include "test.h"

#include "aiecg/eval.h"
#include "aiecg/wfdb.h"

#include <unistd.h>

static aiecg_qrs_match m_(const int64_t *r, int64_t nr, const int64_t *t, int64_t nt, int64_t start) {
    aiecg_qrs_match m;
    memset(&m, 0, sizeof m);
    CHECK_OK(aiecg_eval_qrs_match(r, nr, t, nt, 1000, 0.150, start, -1, &m), NULL);
    return m;
}

static void test_basic(void) {
    int64_t r[] = {1000, 2000, 3000, 4000};
    int64_t t1[] = {1000, 2100, 3150, 4151};
    aiecg_qrs_match m = m_(r, 4, t1, 4, 0);
    CHECK_INT(m.tp, 3); /* 150 ms is inside the window, 151 ms is not */
    CHECK_INT(m.fn, 1);
    CHECK_INT(m.fp, 1);
    CHECK_NEAR(m.se, 0.75, 1e-12);
    CHECK_NEAR(m.ppv, 0.75, 1e-12);
    /* two detections near one beat: the nearer is the match, the other a false positive */
    int64_t t2[] = {1100, 1010, 2000, 3000, 4000};
    int64_t t2s[] = {1010, 1100, 2000, 3000, 4000};
    (void)t2;
    m = m_(r, 4, t2s, 5, 0);
    CHECK_INT(m.tp, 4);
    CHECK_INT(m.fp, 1);
    CHECK_INT(m.fn, 0);
    /* a detection between two close beats goes to the nearer one */
    int64_t r3[] = {1000, 1200};
    int64_t t3[] = {1130};
    m = m_(r3, 2, t3, 1, 0);
    CHECK_INT(m.tp, 1);
    CHECK_INT(m.fn, 1);
    CHECK_INT(m.fp, 0);
    /* empty inputs */
    m = m_(r, 4, NULL, 0, 0);
    CHECK_INT(m.fn, 4);
    CHECK(isnan(m.ppv));
    m = m_(NULL, 0, t1, 4, 0);
    CHECK_INT(m.fp, 4);
    CHECK(isnan(m.se));
    /* scoring start: beats before it are ignored */
    m = m_(r, 4, t1, 4, 2500);
    CHECK_INT(m.tp, 1);
    CHECK_INT(m.fn, 1);
    CHECK_INT(m.fp, 1);
    /* unsorted or invalid input */
    int64_t bad[] = {2000, 1000};
    aiecg_qrs_match x;
    CHECK(aiecg_eval_qrs_match(bad, 2, t1, 4, 1000, 0.15, 0, -1, &x) == AIECG_ERR_INVALID_ARG);
    CHECK(aiecg_eval_qrs_match(r, 4, t1, 4, 0, 0.15, 0, -1, &x) == AIECG_ERR_INVALID_ARG);
    CHECK(aiecg_eval_qrs_match(r, 4, NULL, 3, 1000, 0.15, 0, -1, &x) == AIECG_ERR_INVALID_ARG);
    /* gross statistics add up */
    aiecg_qrs_match g = {0, 0, 0, NAN, NAN}, a = m_(r, 4, t1, 4, 0);
    aiecg_qrs_match_add(&g, &a);
    aiecg_qrs_match_add(&g, &a);
    CHECK_INT(g.tp, 6);
    CHECK_NEAR(g.se, 0.75, 1e-12);
}

static void test_cli(void) {
    const char *cli = getenv("AIECG_CLI");
    char dir[4096];
    test_data_path("mitdb", dir, sizeof dir);
    if (!cli) return;
    char cmd[8400];
    snprintf(cmd, sizeof cmd, "%s eval qrs --db %s --records 100,105 --json", cli, dir);
    FILE *p = popen(cmd, "r");
    CHECK(p != NULL);
    if (!p) return;
    static char buf[1 << 16];
    size_t n = fread(buf, 1, sizeof buf - 1, p);
    buf[n] = 0;
    CHECK_INT(pclose(p), 0);
    CHECK(strstr(buf, "\"record\":\"100\"") != NULL);
    CHECK(strstr(buf, "\"record\":\"105\"") != NULL);
    CHECK(strstr(buf, "\"gross\":{") != NULL);
    /* record 100 has 2273 beat annotations; the detector misses at most 2 */
    const char *q = strstr(buf, "{\"record\":\"100\",\"ref\":2273,\"tp\":");
    CHECK(q != NULL);
    if (q) CHECK(atoi(q + strlen("{\"record\":\"100\",\"ref\":2273,\"tp\":")) >= 2271);
    snprintf(cmd, sizeof cmd, "%s eval nosuch >/dev/null 2>&1", cli);
    CHECK(system(cmd) != 0);
}

/* aiecg detect --annotate writes the library's beats and labels; --waves adds LUDB-style marks. */
static void test_detect_cli(void) {
    const char *cli = getenv("AIECG_CLI");
    char dir[4096];
    test_data_path("mitdb", dir, sizeof dir);
    if (!cli) return;
    char tmp[] = "/tmp/aiecg_detect_XXXXXX";
    if (!mkdtemp(tmp)) return;
    char cmd[9000], path[4200];
    snprintf(cmd, sizeof cmd, "%s detect %s/100 --annotate qrs --out-dir %s --quiet", cli, dir, tmp);
    CHECK_INT(system(cmd), 0);
    snprintf(path, sizeof path, "%s/100.qrs", tmp);
    aiecg_annotation *a = NULL;
    int64_t na = 0;
    aiecg_error err;
    CHECK_OK(aiecg_wfdb_annotations_load(path, &a, &na, &err), &err);
    aiecg_record *rec = NULL;
    snprintf(path, sizeof path, "%s/100", dir);
    CHECK_OK(aiecg_record_open(path, NULL, &rec, &err), &err);
    aiecg_beat *b = NULL;
    int64_t nb = 0;
    if (rec) CHECK_OK(aiecg_qrs_detect(rec, NULL, &b, &nb, &err), &err);
    CHECK_INT(na, nb);
    int same = 1;
    for (int64_t i = 0; i < na && i < nb; i++) {
        const char *m = aiecg_annotation_code_name(a[i].code);
        char want = b[i].label == 'P' ? '/' : b[i].label;
        same &= a[i].sample == b[i].sample && m && m[0] == want;
    }
    CHECK(same);
    aiecg_wfdb_annotations_free(a, na);
    aiecg_free(b);
    aiecg_record_free(rec);
    snprintf(path, sizeof path, "%s/100.qrs", tmp);
    unlink(path);
    /* --waves on a LUDB record: onsets, peaks and offsets in ( p ) ( N ) ( t ) order */
    char ludb[4096];
    test_data_path("ludb", ludb, sizeof ludb);
    snprintf(cmd, sizeof cmd, "%s detect %s/data/1 --annotate wav --waves --out-dir %s --quiet", cli, ludb, tmp);
    CHECK_INT(system(cmd), 0);
    snprintf(path, sizeof path, "%s/1.wav", tmp);
    a = NULL;
    na = 0;
    CHECK_OK(aiecg_wfdb_annotations_load(path, &a, &na, &err), &err);
    int64_t nopen = 0, nclose = 0, nqrs = 0;
    for (int64_t i = 0; i < na; i++) {
        const char *m = aiecg_annotation_code_name(a[i].code);
        nopen += m && !strcmp(m, "(");
        nclose += m && !strcmp(m, ")");
        nqrs += aiecg_annotation_is_beat(a[i].code);
    }
    printf("LUDB 1 --waves: %lld marks, %lld beats, %lld onsets, %lld offsets\n", (long long)na, (long long)nqrs,
           (long long)nopen, (long long)nclose);
    CHECK(nqrs >= 8);
    CHECK(nopen >= nqrs);
    CHECK(nclose >= nqrs);
    aiecg_wfdb_annotations_free(a, na);
    unlink(path);
    rmdir(tmp);
}

int main(void) {
    RUN(test_detect_cli);
    RUN(test_basic);
    RUN(test_cli);
    return test_summary();
}
