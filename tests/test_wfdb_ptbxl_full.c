/*
 * Every PTB-XL record in the tree (records100, 17,418 in this checkout: folds
 * 9 and 10 are withheld) read with all twelve checksums verified and the
 * first sample of each lead equal to its header's initial value. About 14 s
 * in a Release build on a cold cache (mostly file opening), so not "slow".
 */
#include "test.h"

#include <dirent.h>

static void test_ptbxl_all(void) {
    char dir[512], sub[800], p[1200];
    test_data_path("ptbxl", dir, sizeof dir);
    int tried = 0, verified = 0;
    for (int k = 0; k < 22; k++) {
        snprintf(sub, sizeof sub, "%s/records100/%02d000", dir, k);
        DIR *d = opendir(sub);
        if (!d) continue;
        struct dirent *de;
        while ((de = readdir(d))) {
            size_t n = strlen(de->d_name);
            if (n < 5 || strcmp(de->d_name + n - 4, ".hea")) continue;
            snprintf(p, sizeof p, "%s/%s", sub, de->d_name);
            tried++;
            aiecg_record *r = NULL;
            aiecg_error e;
            aiecg_status s = aiecg_record_open(p, NULL, &r, &e);
            if (s) {
                fprintf(stderr, "%s: %s\n", p, e.message);
                CHECK(0);
                continue;
            }
            int ok = aiecg_record_nleads(r) == 12 && aiecg_record_nsamples(r) == 1000;
            for (int l = 0; l < aiecg_record_nleads(r); l++) {
                aiecg_lead_info li;
                aiecg_record_lead_info(r, l, &li);
                ok &= li.checksum_state == AIECG_CHECKSUM_OK;
                ok &= aiecg_record_lead_adc(r, l)[0] == li.initial_value;
            }
            if (!ok) fprintf(stderr, "%s: checksum, initial value or shape wrong\n", p);
            verified += ok;
            aiecg_record_free(r);
        }
        closedir(d);
    }
    printf("ptbxl: %d/%d records read, every checksum and initial value verified\n", verified, tried);
    CHECK(tried >= 17000);
    CHECK_INT(verified, tried);
}

int main(void) {
    RUN(test_ptbxl_all);
    return test_summary();
}
