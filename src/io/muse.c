/* Placeholder for the muse reader/writer: every entry point reports the format as unsupported. */
#include "io_int.h"

aiecg_status aiecg__muse_read_mem(const uint8_t *data, size_t len, const char *name,
                                  const aiecg_read_options *opt, aiecg_record **out, aiecg_error *err) {
    (void)data; (void)len; (void)opt; *out = NULL;
    return aiecg__error_set(err, AIECG_ERR_UNSUPPORTED, "%s: muse reader not built yet", name);
}
aiecg_status aiecg__muse_read_path(const char *path, const aiecg_read_options *opt, aiecg_record **out,
                                   aiecg_error *err) {
    return aiecg__read_path_via_mem(path, aiecg__muse_read_mem, opt, out, err);
}
int aiecg__muse_probe(const uint8_t *head, size_t len, const char *path) {
    (void)head; (void)len; (void)path;
    return 0;
}
aiecg_status aiecg__muse_write(const aiecg_record *rec, const char *path, const aiecg_write_options *opt,
                               aiecg_error *err) {
    (void)rec; (void)opt;
    return aiecg__error_set(err, AIECG_ERR_UNSUPPORTED, "%s: writing muse is not supported", path);
}
