/*
 * Status names and messages, generated from AIECG_STATUS_LIST so that adding a
 * status without its text fails to compile (the static_assert below counts
 * the list against the table).
 */
#include "core_int.h"

#include <assert.h>
#include <stdio.h>
#include <string.h>

#define AIECG__COUNT(name, value, msg) +1
enum { STATUS_COUNT = 0 AIECG_STATUS_LIST(AIECG__COUNT) };
#undef AIECG__COUNT

static const struct {
    aiecg_status value;
    const char *name;
    const char *message;
} status_table[] = {
#define AIECG__ROW(name, value, msg) {AIECG_##name, #name, msg},
    AIECG_STATUS_LIST(AIECG__ROW)
#undef AIECG__ROW
};
static_assert(sizeof(status_table) / sizeof(status_table[0]) == STATUS_COUNT,
              "status table out of step with AIECG_STATUS_LIST");

const char *aiecg_strerror(aiecg_status s) {
    for (size_t i = 0; i < STATUS_COUNT; i++)
        if (status_table[i].value == s) return status_table[i].message;
    return "unknown status";
}

const char *aiecg_status_name(aiecg_status s) {
    for (size_t i = 0; i < STATUS_COUNT; i++)
        if (status_table[i].value == s) return status_table[i].name;
    return "UNKNOWN";
}

void aiecg_error_clear(aiecg_error *err) {
    if (!err) return;
    err->status = AIECG_OK;
    err->message[0] = '\0';
}

aiecg_status aiecg__error_setv(aiecg_error *err, aiecg_status status, const char *fmt, va_list ap) {
    if (err) {
        err->status = status;
        vsnprintf(err->message, sizeof err->message, fmt, ap);
    }
    return status;
}

aiecg_status aiecg__error_set(aiecg_error *err, aiecg_status status, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    aiecg__error_setv(err, status, fmt, ap);
    va_end(ap);
    return status;
}

void aiecg__error_prefix(aiecg_error *err, const char *fmt, ...) {
    if (!err) return;
    char prefix[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof prefix, fmt, ap);
    va_end(ap);
    char old[AIECG_ERROR_MESSAGE_MAX];
    memcpy(old, err->message, sizeof old);
    size_t k = strlen(prefix);
    if (k > sizeof err->message - 3) k = sizeof err->message - 3;
    memcpy(err->message, prefix, k);
    memcpy(err->message + k, ": ", 2);
    size_t room = sizeof err->message - k - 3;
    size_t n = strnlen(old, room);
    memcpy(err->message + k + 2, old, n);
    err->message[k + 2 + n] = '\0';
}

void aiecg__log(const aiecg_logger *lg, aiecg_log_level level, const char *fmt, ...) {
    if (!lg || !lg->fn || level < lg->min_level) return;
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    lg->fn(lg->user, level, buf);
}

const char *aiecg_version(void) { return AIECG_VERSION_STRING; }
