/* GE MUSE XML reader tests on data/formats/ge-muse-xml plus synthetic
 * documents for demographics, diagnosis statements and malformed input. */
#include "test.h"

static char dir[4096];

static void test_files(void) {
    for (int k = 1; k <= 4; k++) {
        char path[8192];
        snprintf(path, sizeof path, "%s/example%d.xml", dir, k);
        aiecg_record *r = NULL;
        aiecg_error err = {0};
        CHECK_OK(aiecg_record_open(path, NULL, &r, &err), &err);
        if (!r) continue;
        aiecg_record_meta m;
        aiecg_record_meta_get(r, &m);
        CHECK_STR(m.format, "muse");
        CHECK_INT(aiecg_record_nleads(r), 12); /* 8 stored + 4 derived */
        CHECK_NEAR(aiecg_record_fs(r), 500, 1e-9);
        CHECK_INT(aiecg_record_nsamples(r), 5000); /* the Rhythm waveform, not the 600-sample median */
        aiecg_lead_info li;
        aiecg_record_lead_info(r, 0, &li);
        CHECK_STR(li.label, "I");
        CHECK_NEAR(li.gain, 1000 / 4.88, 1e-6);
        CHECK_INT(li.checksum_state, AIECG_CHECKSUM_OK); /* LeadDataCRC32 */
        int i3 = aiecg_record_find_lead(r, AIECG_LEAD_III), iavf = aiecg_record_find_lead(r, AIECG_LEAD_AVF);
        CHECK(i3 >= 8 && iavf >= 8);
        if (i3 >= 0) {
            aiecg_record_lead_info(r, i3, &li);
            CHECK_INT(li.derived, 1);
            const float *I = aiecg_record_lead_data(r, 0), *II = aiecg_record_lead_data(r, 1),
                        *III = aiecg_record_lead_data(r, i3);
            for (int i = 0; i < 5000; i += 250) CHECK_NEAR(III[i], II[i] - I[i], 1e-6);
        }
        if (k == 1) CHECK_INT(aiecg_record_lead_adc(r, 0)[0], -20); /* first rhythm sample of lead I */
        aiecg_record_free(r);
    }
}

static const char *synthetic =
    "<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?>\n<!DOCTYPE RestingECG SYSTEM \"restecg.dtd\">\n"
    "<RestingECG><PatientDemographics><PatientID>12345</PatientID><PatientAge>64</PatientAge>"
    "<AgeUnits>YEARS</AgeUnits><Gender>FEMALE</Gender><PatientLastName>M\xFCller</PatientLastName>"
    "</PatientDemographics><TestDemographics><AcquisitionDevice>MAC55</AcquisitionDevice>"
    "<AcquisitionTime>09:35:04</AcquisitionTime><AcquisitionDate>09-22-2020</AcquisitionDate></TestDemographics>"
    "<Diagnosis><Modality>RESTING</Modality><DiagnosisStatement><StmtFlag>ENDSLINE</StmtFlag>"
    "<StmtText>Normal sinus rhythm</StmtText></DiagnosisStatement><DiagnosisStatement>"
    "<StmtText>Normal ECG</StmtText></DiagnosisStatement></Diagnosis>"
    "<Waveform><WaveformType>Median</WaveformType><SampleBase>500</SampleBase><SampleExponent>0</SampleExponent>"
    "<LeadData><LeadSampleCountTotal>2</LeadSampleCountTotal><LeadAmplitudeUnitsPerBit>1</LeadAmplitudeUnitsPerBit>"
    "<LeadAmplitudeUnits>MILLIVOLTS</LeadAmplitudeUnits><LeadID>I</LeadID><WaveFormData>AQACAA==</WaveFormData>"
    "</LeadData></Waveform>"
    "<Waveform><WaveformType>Rhythm</WaveformType><SampleBase>25</SampleBase><SampleExponent>1</SampleExponent>"
    "<LeadData><LeadSampleCountTotal>3</LeadSampleCountTotal><LeadAmplitudeUnitsPerBit>5</LeadAmplitudeUnitsPerBit>"
    "<LeadAmplitudeUnits>MICROVOLTS</LeadAmplitudeUnits><LeadID>I</LeadID>"
    "<WaveFormData>CgAUAB4A</WaveFormData><LeadDataCRC32>1</LeadDataCRC32></LeadData>"
    "<LeadData><LeadSampleCountTotal>3</LeadSampleCountTotal><LeadAmplitudeUnitsPerBit>5</LeadAmplitudeUnitsPerBit>"
    "<LeadAmplitudeUnits>MICROVOLTS</LeadAmplitudeUnits><LeadID>II</LeadID>"
    "<WaveFormData>9v/s/+L/</WaveFormData></LeadData></Waveform></RestingECG>";

static aiecg_status read_str(const char *s, aiecg_record **r, aiecg_error *err) {
    aiecg_read_options o = aiecg_read_options_default();
    return aiecg_record_read_memory(s, strlen(s), "t.xml", &o, r, err);
}

static void test_synthetic(void) {
    aiecg_record *r = NULL;
    aiecg_error err = {0};
    CHECK_OK(read_str(synthetic, &r, &err), &err);
    if (!r) return;
    CHECK_NEAR(aiecg_record_fs(r), 250, 1e-9);
    CHECK_INT(aiecg_record_nsamples(r), 3);
    CHECK_INT(aiecg_record_nleads(r), 6);
    CHECK_NEAR(aiecg_record_lead_data(r, 0)[2], 0.150, 1e-6); /* 30 x 5 uV */
    CHECK_NEAR(aiecg_record_lead_data(r, 1)[0], -0.050, 1e-6);
    aiecg_lead_info li;
    aiecg_record_lead_info(r, 0, &li);
    CHECK_INT(li.checksum_state, AIECG_CHECKSUM_BAD);
    aiecg_record_lead_info(r, 1, &li);
    CHECK_INT(li.checksum_state, AIECG_CHECKSUM_ABSENT);
    aiecg_record_meta m;
    aiecg_record_meta_get(r, &m);
    CHECK_STR(m.patient_id, "12345");
    CHECK_INT(m.age, 64);
    CHECK_INT(m.sex, 'F');
    CHECK_STR(m.device, "MAC55");
    CHECK_INT(m.has_start_time, 1);
    CHECK_INT(m.year, 2020);
    CHECK_INT(m.month, 9);
    CHECK_INT(m.day, 22);
    CHECK_INT(m.hour, 9);
    CHECK_INT(m.minute, 35);
    CHECK_INT(aiecg_record_nstatements(r), 2);
    CHECK_STR(aiecg_record_statement(r, 0), "Normal sinus rhythm");
    aiecg_record_free(r);
}

static void test_oom(void) { test_oom_sweep_read(synthetic, strlen(synthetic), AIECG_FORMAT_MUSE); }

static void test_bad(void) {
    aiecg_record *r = NULL;
    aiecg_error err = {0};
    char *s = strdup(synthetic);
    char *p = strstr(s, "CgAUAB4A");
    p[3] = '*';
    aiecg_read_options o = aiecg_read_options_default();
    o.format = AIECG_FORMAT_MUSE;
    CHECK_INT(aiecg_record_read_memory(s, strlen(s), "t.xml", &o, &r, &err), AIECG_ERR_FORMAT);
    CHECK(strstr(err.message, "invalid base64 at character 3") != NULL);
    CHECK(strstr(err.message, "/RestingECG/Waveform/LeadData/WaveFormData") != NULL);
    memcpy(p, "CgAUAA==", 8); /* 2 samples where 3 are declared */
    CHECK_INT(aiecg_record_read_memory(s, strlen(s), "t.xml", &o, &r, &err), AIECG_ERR_TRUNCATED);
    free(s);
    const char *other = "<restingecgdata/>";
    CHECK_INT(aiecg_record_read_memory(other, strlen(other), "t.xml", &o, &r, &err), AIECG_ERR_FORMAT);
    CHECK(strstr(err.message, "not <RestingECG>") != NULL);
    const char *ent = "<!DOCTYPE RestingECG [<!ENTITY x SYSTEM \"restecg.dtd\">]><RestingECG>&x;</RestingECG>";
    CHECK_INT(aiecg_record_read_memory(ent, strlen(ent), "t.xml", &o, &r, &err), AIECG_ERR_UNSUPPORTED);
}

int main(void) {
    test_data_path("formats/ge-muse-xml", dir, sizeof dir);
    RUN(test_files);
    RUN(test_synthetic);
    RUN(test_bad);
    RUN(test_oom);
    return test_summary();
}
