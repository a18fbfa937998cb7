/*
 * SCP-ECG reader (EN 1064:2005 / ISO 11073-91064, protocol versions 1.x
 * and 2.x). A record is a CRC-protected sequence of sections located by the
 * pointer table of Section 0. This reader checks the record CRC and each
 * section's CRC (CRC-CCITT, polynomial 0x1021, initial 0xFFFF) and decodes:
 *   1  patient/acquisition tags (ID, age, sex, birth date, date/time, device);
 *   2  Huffman tables, or the default table (code 19999);
 *   3  lead definitions (sample ranges, lead codes, reference-beat flag);
 *   4  QRS locations: subtraction zones and protected zones;
 *   5  reference beat (type 0), Huffman + difference coded;
 *   6  rhythm data or residuals: Huffman decoding, first/second difference
 *      reconstruction, bimodal compression (decimation by F outside the
 *      protected zones, expanded here by linear interpolation between the
 *      stored group means), then reference-beat addition in the subtraction
 *      zones (residual + reference beat, both in nV);
 *   8, 11  interpretive statements -> aiecg_record_add_statement.
 * Sections 7, 9 and 10 (measurements, manufacturer text) are not read.
 * Every length is checked against its section before use; a decoding error
 * names the section and the lead.
 */
#include "io_int.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#define SCP_MAX_SECTIONS 32
#define SCP_MAX_TABLES 64
#define SCP_MAX_CODES 256

typedef struct sec {
    int present;
    size_t off, len; /* whole section, header included */
    int version, protocol;
} sec;

typedef struct hcode {
    uint8_t prefix, total, mode;
    int16_t base;
    uint32_t code; /* as stored: first transmitted bit in bit 0 */
} hcode;

/*
 * Decoding trie built from a table: node 0 is the root, child[b] is the next
 * node for bit b (0 = none) and leaf the code index (-1 = inner node). Of
 * two conflicting codes (one a prefix of the other, or equal) in a malformed
 * table the first is kept; decoding costs one step per bit whatever the table.
 */
#define SCP_MAX_NODES (SCP_MAX_CODES * 32 + 1)
typedef struct htable {
    int n;
    hcode c[SCP_MAX_CODES];
    int nnodes;
    int16_t leaf[SCP_MAX_NODES];
    uint16_t child[SCP_MAX_NODES][2];
} htable;

static void build_trie(htable *t) {
    t->nnodes = 1;
    t->leaf[0] = -1;
    t->child[0][0] = t->child[0][1] = 0;
    for (int k = 0; k < t->n; k++) {
        const hcode *c = &t->c[k];
        int node = 0, ok = 1;
        for (int b = 0; b < c->prefix && ok; b++) {
            if (t->leaf[node] >= 0) ok = 0; /* an earlier, shorter code wins */
            int bit = (int)((c->code >> b) & 1u);
            if (ok && !t->child[node][bit]) {
                int nn = t->nnodes++;
                t->leaf[nn] = -1;
                t->child[nn][0] = t->child[nn][1] = 0;
                t->child[node][bit] = (uint16_t)nn;
            }
            if (ok) node = t->child[node][bit];
        }
        if (ok && t->leaf[node] < 0 && !t->child[node][0] && !t->child[node][1]) t->leaf[node] = (int16_t)k;
    }
}

typedef struct scp {
    const uint8_t *d;
    size_t len;
    const char *name;
    aiecg_error *err;
    sec s[SCP_MAX_SECTIONS];
    htable *tables;
    int ntables; /* 0: no Huffman coding (raw 16-bit samples) */
    /* section 3 */
    int nleads, refbeat_used;
    uint32_t lstart[AIECG_MAX_LEADS], lend[AIECG_MAX_LEADS];
    int lcode[AIECG_MAX_LEADS];
    /* section 4 */
    int ref_len_ms, ref_fid, nqrs;
    uint32_t *qrs; /* nqrs x {type, SB, fc, SE, QB, QE} */
    int has_protected;
} scp;

static uint16_t rd16(const uint8_t *p) { return (uint16_t)(p[0] | (p[1] << 8)); }
static uint32_t rd32(const uint8_t *p) {
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}

static uint16_t crc_ccitt(const uint8_t *p, size_t n) {
    uint16_t c = 0xFFFF;
    for (size_t i = 0; i < n; i++) {
        c ^= (uint16_t)(p[i] << 8);
        for (int b = 0; b < 8; b++) c = (c & 0x8000) ? (uint16_t)((c << 1) ^ 0x1021) : (uint16_t)(c << 1);
    }
    return c;
}

/* ---- section table -------------------------------------------------------- */

static aiecg_status check_section(scp *p, int id, size_t off, size_t len) {
    if (len < 16)
        return aiecg__error_set(p->err, AIECG_ERR_FORMAT, "%s: section %d length %zu is shorter than its header",
                                p->name, id, len);
    if (off > p->len || len > p->len - off)
        return aiecg__error_set(p->err, AIECG_ERR_TRUNCATED,
                                "%s: section %d (byte offset %zu, %zu bytes) extends past the record end (%zu)",
                                p->name, id, off, len, p->len);
    const uint8_t *h = p->d + off;
    if (rd16(h + 2) != id)
        return aiecg__error_set(p->err, AIECG_ERR_FORMAT,
                                "%s: section %d: header at byte offset %zu has section ID %u", p->name, id, off,
                                rd16(h + 2));
    if (rd32(h + 4) != len)
        return aiecg__error_set(p->err, AIECG_ERR_FORMAT,
                                "%s: section %d: header length %u differs from the pointer's %zu", p->name, id,
                                rd32(h + 4), len);
    uint16_t want = rd16(h), got = crc_ccitt(h + 2, len - 2);
    if (want != got)
        return aiecg__error_set(p->err, AIECG_ERR_CHECKSUM,
                                "%s: section %d (byte offset %zu): CRC 0x%04X, computed 0x%04X", p->name, id, off,
                                want, got);
    return AIECG_OK;
}

static aiecg_status read_pointers(scp *p) {
    if (p->len < 6 + 16)
        return aiecg__error_set(p->err, AIECG_ERR_TRUNCATED, "%s: %zu bytes is too short for an SCP-ECG record",
                                p->name, p->len);
    uint32_t reclen = rd32(p->d + 2);
    if (reclen > p->len)
        return aiecg__error_set(p->err, AIECG_ERR_TRUNCATED,
                                "%s: record length field %u exceeds the file size %zu (truncated or not SCP-ECG)",
                                p->name, reclen, p->len);
    if (reclen < 6 + 16)
        return aiecg__error_set(p->err, AIECG_ERR_FORMAT, "%s: record length field %u is too small", p->name,
                                reclen);
    p->len = reclen;
    uint16_t want = rd16(p->d), got = crc_ccitt(p->d + 2, reclen - 2);
    if (want != got)
        return aiecg__error_set(p->err, AIECG_ERR_CHECKSUM, "%s: record CRC 0x%04X, computed 0x%04X", p->name,
                                want, got);
    size_t s0len = rd32(p->d + 6 + 4);
    aiecg_status s = check_section(p, 0, 6, s0len);
    if (s) return s;
    if (memcmp(p->d + 6 + 10, "SCPECG", 6) != 0)
        return aiecg__error_set(p->err, AIECG_ERR_FORMAT, "%s: section 0 lacks the \"SCPECG\" tag at byte 16",
                                p->name);
    for (size_t i = 6 + 16; i + 10 <= 6 + s0len; i += 10) {
        unsigned id = rd16(p->d + i);
        uint32_t len = rd32(p->d + i + 2), idx = rd32(p->d + i + 6);
        if (!len || !idx || id >= SCP_MAX_SECTIONS) continue; /* absent, or a manufacturer section */
        if (p->s[id].present)
            return aiecg__error_set(p->err, AIECG_ERR_FORMAT, "%s: section 0 points to section %u twice", p->name,
                                    id);
        if ((s = check_section(p, (int)id, (size_t)idx - 1, len))) return s;
        p->s[id].present = 1;
        p->s[id].off = (size_t)idx - 1;
        p->s[id].len = len;
        p->s[id].version = p->d[idx - 1 + 8];
        p->s[id].protocol = p->d[idx - 1 + 9];
    }
    return AIECG_OK;
}

/* Data part of a section: pointer and length (after the 16-byte header). */
static const uint8_t *sec_data(const scp *p, int id, size_t *n) {
    *n = p->s[id].len - 16;
    return p->d + p->s[id].off + 16;
}

/* ---- section 1 ------------------------------------------------------------ */

/* Copies a tag string (NUL-terminated or not) as UTF-8, Latin-1 bytes widened. */
static void tag_string(const uint8_t *v, size_t n, char *out, size_t size) {
    size_t w = 0;
    for (size_t i = 0; i < n && v[i] && w + 3 < size; i++) {
        uint8_t c = v[i];
        if (c < 0x20) c = ' ';
        if (c < 0x80) {
            out[w++] = (char)c;
        } else {
            out[w++] = (char)(0xC0 | (c >> 6));
            out[w++] = (char)(0x80 | (c & 0x3F));
        }
    }
    while (w && out[w - 1] == ' ') w--;
    out[w] = 0;
}

static aiecg_status read_section1(scp *p, aiecg_record_meta *m, char *pid, char *dev, size_t size) {
    if (!p->s[1].present) return AIECG_OK;
    size_t n;
    const uint8_t *d = sec_data(p, 1, &n);
    size_t i = 0;
    int have_date = 0, have_time = 0, by = 0, bm = 0, bd = 0;
    while (i + 3 <= n) {
        uint8_t tag = d[i];
        uint16_t tl = rd16(d + i + 1);
        if (tag == 255) break;
        if (tl > n - i - 3)
            return aiecg__error_set(p->err, AIECG_ERR_FORMAT,
                                    "%s: section 1: tag %u at byte offset %zu has length %u past the section end",
                                    p->name, tag, p->s[1].off + 16 + i, tl);
        const uint8_t *v = d + i + 3;
        switch (tag) {
        case 2: tag_string(v, tl, pid, size); break;
        case 4:
            if (tl >= 3) {
                int a = rd16(v), unit = v[2];
                if (unit == 1 && a < 200) m->age = a;
                else if (unit == 2) m->age = a / 12;
                else if (unit >= 3 && unit <= 5) m->age = 0;
            }
            break;
        case 5:
            if (tl >= 4) by = rd16(v), bm = v[2], bd = v[3];
            break;
        case 8:
            if (tl >= 1) m->sex = v[0] == 1 ? 'M' : v[0] == 2 ? 'F' : 'U';
            break;
        case 14:
            if (tl >= 14) {
                char model[16];
                tag_string(v + 8, 6, model, sizeof model);
                /* After 36 fixed bytes come length-prefixed/NUL-terminated strings, the last the manufacturer. */
                char manu[64] = "";
                if (tl > 36) {
                    size_t k = 36;
                    size_t plen = v[35];
                    k += plen; /* analysing program revision */
                    for (int f = 0; f < 4 && k < tl; f++) {
                        size_t e = k;
                        while (e < tl && v[e]) e++;
                        if (f == 3) tag_string(v + k, e - k, manu, sizeof manu);
                        k = e + 1;
                    }
                }
                if (manu[0] && model[0]) snprintf(dev, size, "%s %s", manu, model);
                else snprintf(dev, size, "%s", model[0] ? model : manu);
            }
            break;
        case 25:
            if (tl >= 4) {
                m->year = rd16(v);
                m->month = v[2];
                m->day = v[3];
                have_date = m->year >= 1800 && m->year <= 2200 && m->month >= 1 && m->month <= 12 && m->day >= 1 &&
                            m->day <= 31;
            }
            break;
        case 26:
            if (tl >= 3) {
                m->hour = v[0];
                m->minute = v[1];
                m->second = v[2];
                have_time = v[0] < 24 && v[1] < 60 && v[2] < 61;
            }
            break;
        default: break;
        }
        i += 3 + (size_t)tl;
    }
    m->has_start_time = have_date && have_time;
    if (m->age < 0 && have_date && by >= 1800 && by <= m->year && bm >= 1 && bm <= 12) {
        int a = m->year - by - (m->month < bm || (m->month == bm && m->day < bd));
        if (a >= 0 && a < 200) m->age = a;
    }
    return AIECG_OK;
}

/* ---- section 2: Huffman tables -------------------------------------------- */

/* EN 1064 default table: prefix bits, total bits, mode, base value, base code (bit-reversed). */
static const struct {
    uint8_t prefix, total;
    int16_t base;
    uint32_t code;
} default_table[19] = {
    {1, 1, 0, 0x0},      {3, 3, 1, 0x1},       {3, 3, -1, 0x5},      {4, 4, 2, 0x3},      {4, 4, -2, 0xB},
    {5, 5, 3, 0x7},      {5, 5, -3, 0x17},     {6, 6, 4, 0xF},       {6, 6, -4, 0x2F},    {7, 7, 5, 0x1F},
    {7, 7, -5, 0x5F},    {8, 8, 6, 0x3F},      {8, 8, -6, 0xBF},     {9, 9, 7, 0x7F},     {9, 9, -7, 0x17F},
    {10, 10, 8, 0xFF},   {10, 10, -8, 0x2FF},  {10, 18, 0, 0x1FF},   {10, 26, 0, 0x3FF},
};

static aiecg_status read_section2(scp *p) {
    if (!p->s[2].present) return AIECG_OK;
    size_t n;
    const uint8_t *d = sec_data(p, 2, &n);
    if (n < 2) return aiecg__error_set(p->err, AIECG_ERR_FORMAT, "%s: section 2 is empty", p->name);
    unsigned nt = rd16(d);
    if (nt == 19999) {
        p->tables = aiecg__calloc(1, sizeof *p->tables);
        if (!p->tables) return aiecg__error_set(p->err, AIECG_ERR_NOMEM, "out of memory");
        p->ntables = 1;
        p->tables[0].n = 19;
        for (int i = 0; i < 19; i++) {
            hcode *c = &p->tables[0].c[i];
            c->prefix = default_table[i].prefix;
            c->total = default_table[i].total;
            c->mode = 1;
            c->base = default_table[i].base;
            c->code = default_table[i].code;
        }
        build_trie(&p->tables[0]);
        return AIECG_OK;
    }
    if (nt == 0 || nt > SCP_MAX_TABLES)
        return aiecg__error_set(p->err, AIECG_ERR_FORMAT, "%s: section 2: %u Huffman tables (1..%d allowed)",
                                p->name, nt, SCP_MAX_TABLES);
    p->tables = aiecg__calloc(nt, sizeof *p->tables);
    if (!p->tables) return aiecg__error_set(p->err, AIECG_ERR_NOMEM, "out of memory");
    p->ntables = (int)nt;
    size_t i = 2;
    for (unsigned t = 0; t < nt; t++) {
        if (i + 2 > n)
            return aiecg__error_set(p->err, AIECG_ERR_TRUNCATED, "%s: section 2: table %u truncated", p->name, t + 1);
        unsigned nc = rd16(d + i);
        i += 2;
        if (nc == 0 || nc > SCP_MAX_CODES || nc * 9 > n - i)
            return aiecg__error_set(p->err, AIECG_ERR_FORMAT,
                                    "%s: section 2: table %u has %u codes (1..%d, 9 bytes each, within the section)",
                                    p->name, t + 1, nc, SCP_MAX_CODES);
        p->tables[t].n = (int)nc;
        for (unsigned k = 0; k < nc; k++, i += 9) {
            hcode *c = &p->tables[t].c[k];
            c->prefix = d[i];
            c->total = d[i + 1];
            c->mode = d[i + 2];
            c->base = (int16_t)rd16(d + i + 3);
            c->code = rd32(d + i + 5);
            if (c->prefix < 1 || c->prefix > 32 || c->total < c->prefix || c->total - c->prefix > 32 ||
                (c->mode == 0 && (c->base < 1 || c->base > (int)nt)))
                return aiecg__error_set(p->err, AIECG_ERR_FORMAT,
                                        "%s: section 2: table %u code %u is invalid (prefix %u, total %u, mode %u)",
                                        p->name, t + 1, k + 1, c->prefix, c->total, c->mode);
        }
        build_trie(&p->tables[t]);
    }
    return AIECG_OK;
}

/*
 * Decodes `want` values from one lead's byte stream. Huffman codes are read
 * most significant bit first; a table-switch code changes the table for the
 * rest of the lead. Without Huffman tables the stream is 16-bit LE samples.
 */
static aiecg_status decode_lead(scp *p, int secid, int lead, const uint8_t *b, size_t nb, int64_t want,
                                int32_t *out) {
    if (!p->ntables) {
        if ((uint64_t)nb < (uint64_t)want * 2)
            return aiecg__error_set(p->err, AIECG_ERR_TRUNCATED,
                                    "%s: section %d lead %d: %zu bytes hold fewer than %lld 16-bit samples", p->name,
                                    secid, lead + 1, nb, (long long)want);
        for (int64_t i = 0; i < want; i++) out[i] = (int16_t)rd16(b + 2 * i);
        return AIECG_OK;
    }
    uint64_t bitpos = 0, nbits = (uint64_t)nb * 8;
    const htable *t = &p->tables[0];
    int switches = 0;
    for (int64_t i = 0; i < want;) {
        int node = 0;
        while (t->leaf[node] < 0) {
            if (bitpos >= nbits)
                return aiecg__error_set(p->err, AIECG_ERR_TRUNCATED,
                                        "%s: section %d lead %d: Huffman data ends after %lld of %lld samples",
                                        p->name, secid, lead + 1, (long long)i, (long long)want);
            unsigned bit = (b[bitpos >> 3] >> (7 - (bitpos & 7))) & 1u;
            bitpos++;
            node = t->child[node][bit];
            if (!node)
                return aiecg__error_set(p->err, AIECG_ERR_FORMAT,
                                        "%s: section %d lead %d: no Huffman code matches at bit %llu", p->name, secid,
                                        lead + 1, (unsigned long long)(bitpos - 1));
        }
        const hcode *c = &t->c[t->leaf[node]];
        if (c->mode == 0) {
            /* table switch: bounded so that a stream of switch codes cannot loop without output */
            if (++switches > 1000000)
                return aiecg__error_set(p->err, AIECG_ERR_FORMAT, "%s: section %d lead %d: too many table switches",
                                        p->name, secid, lead + 1);
            t = &p->tables[c->base - 1];
            continue;
        }
        int extra = c->total - c->prefix;
        if (extra == 0) {
            out[i++] = c->base;
            continue;
        }
        if (bitpos + (uint64_t)extra > nbits)
            return aiecg__error_set(p->err, AIECG_ERR_TRUNCATED,
                                    "%s: section %d lead %d: Huffman data ends inside sample %lld", p->name, secid,
                                    lead + 1, (long long)i);
        int64_t v = 0;
        for (int e = 0; e < extra; e++, bitpos++) v = (v << 1) | ((b[bitpos >> 3] >> (7 - (bitpos & 7))) & 1);
        if (v & ((int64_t)1 << (extra - 1))) v -= (int64_t)1 << extra;
        if (v < INT32_MIN / 4 || v > INT32_MAX / 4) v = 0;
        out[i++] = (int32_t)v;
    }
    return AIECG_OK;
}

/* Undoes first or second difference coding in place (EN 1064 section 5.6). */
static void undo_diff(int32_t *x, int64_t n, int diff) {
    if (diff == 1) {
        for (int64_t i = 1; i < n; i++) x[i] = (int32_t)((int64_t)x[i] + x[i - 1]);
    } else if (diff == 2) {
        for (int64_t i = 2; i < n; i++) {
            int64_t v = (int64_t)x[i] + 2 * (int64_t)x[i - 1] - x[i - 2];
            x[i] = v > INT32_MAX ? INT32_MAX : v < INT32_MIN ? INT32_MIN : (int32_t)v;
        }
    }
}

/* ---- section 3, 4 ------------------------------------------------------------ */

static const struct {
    int code;
    aiecg_lead lead;
    const char *label;
} scp_leads[] = {
    {1, AIECG_LEAD_I, "I"},      {2, AIECG_LEAD_II, "II"},    {3, AIECG_LEAD_V1, "V1"},   {4, AIECG_LEAD_V2, "V2"},
    {5, AIECG_LEAD_V3, "V3"},    {6, AIECG_LEAD_V4, "V4"},    {7, AIECG_LEAD_V5, "V5"},   {8, AIECG_LEAD_V6, "V6"},
    {9, AIECG_LEAD_V7, "V7"},    {11, AIECG_LEAD_V3R, "V3R"}, {12, AIECG_LEAD_V4R, "V4R"}, {13, AIECG_LEAD_V5R, "V5R"},
    {16, AIECG_LEAD_X, "X"}, {17, AIECG_LEAD_Y, "Y"}, {18, AIECG_LEAD_Z, "Z"},    {60, AIECG_LEAD_III, "III"},
    {61, AIECG_LEAD_AVR, "aVR"}, {62, AIECG_LEAD_AVL, "aVL"}, {63, AIECG_LEAD_AVF, "aVF"}, {65, AIECG_LEAD_V8, "V8"},
    {66, AIECG_LEAD_V9, "V9"},   {10, AIECG_LEAD_UNKNOWN, "V2R"}, {14, AIECG_LEAD_UNKNOWN, "V6R"},
    {15, AIECG_LEAD_UNKNOWN, "V7R"}, {0, AIECG_LEAD_UNKNOWN, "unspecified"},
};

static aiecg_status read_section3(scp *p) {
    if (!p->s[3].present) return aiecg__error_set(p->err, AIECG_ERR_NOT_FOUND, "%s: no section 3 (lead definitions)", p->name);
    size_t n;
    const uint8_t *d = sec_data(p, 3, &n);
    if (n < 2) return aiecg__error_set(p->err, AIECG_ERR_FORMAT, "%s: section 3 is empty", p->name);
    int nl = d[0];
    if (nl < 1 || nl > AIECG_MAX_LEADS)
        return aiecg__error_set(p->err, AIECG_ERR_FORMAT, "%s: section 3: %d leads (1..%d allowed)", p->name, nl,
                                AIECG_MAX_LEADS);
    if ((size_t)nl * 9 > n - 2)
        return aiecg__error_set(p->err, AIECG_ERR_TRUNCATED, "%s: section 3: %d lead entries exceed the section", p->name, nl);
    p->nleads = nl;
    p->refbeat_used = d[1] & 1;
    for (int l = 0; l < nl; l++) {
        const uint8_t *e = d + 2 + 9 * l;
        p->lstart[l] = rd32(e);
        /* Sample numbers are 1-based; some writers start at 0 and then store end - start samples. */
        if (p->lstart[l] == 0) p->lstart[l] = 1;
        p->lend[l] = rd32(e + 4);
        p->lcode[l] = e[8];
        if (p->lend[l] < p->lstart[l] || p->lend[l] - p->lstart[l] >= (1u << 26))
            return aiecg__error_set(p->err, AIECG_ERR_FORMAT, "%s: section 3: lead %d sample range %u..%u is invalid",
                                    p->name, l + 1, p->lstart[l], p->lend[l]);
    }
    return AIECG_OK;
}

static aiecg_status read_section4(scp *p) {
    if (!p->s[4].present) return AIECG_OK;
    size_t n;
    const uint8_t *d = sec_data(p, 4, &n);
    if (n < 6) return aiecg__error_set(p->err, AIECG_ERR_TRUNCATED, "%s: section 4 is too short", p->name);
    p->ref_len_ms = rd16(d);
    p->ref_fid = rd16(d + 2);
    int nq = rd16(d + 4);
    if ((size_t)nq * 14 > n - 6)
        return aiecg__error_set(p->err, AIECG_ERR_TRUNCATED, "%s: section 4: %d QRS entries exceed the section", p->name, nq);
    p->nqrs = nq;
    p->qrs = aiecg__calloc(nq ? (size_t)nq : 1, 6 * sizeof(uint32_t));
    if (!p->qrs) return aiecg__error_set(p->err, AIECG_ERR_NOMEM, "out of memory");
    for (int q = 0; q < nq; q++) {
        const uint8_t *e = d + 6 + 14 * q;
        uint32_t *z = p->qrs + 6 * q;
        z[0] = rd16(e);
        z[1] = rd32(e + 2);
        z[2] = rd32(e + 6);
        z[3] = rd32(e + 10);
    }
    size_t pz = 6 + 14 * (size_t)nq;
    p->has_protected = (size_t)nq * 8 <= n - pz;
    if (p->has_protected)
        for (int q = 0; q < nq; q++) {
            p->qrs[6 * q + 4] = rd32(d + pz + 8 * q);
            p->qrs[6 * q + 5] = rd32(d + pz + 8 * q + 4);
        }
    return AIECG_OK;
}

/*
 * Samples t of QRS entry qn where the reference beat is added back (type 0 only):
 * its zone z[1]..z[3], cut to [lo0, hi0] and to where the beat index
 * ref_fid - z[2] + t - 1 lies in [0, nref). 0 when nothing remains.
 */
static int sub_zone(const scp *p, int qn, int64_t nref, int64_t lo0, int64_t hi0, int64_t *lo, int64_t *hi) {
    const uint32_t *z = p->qrs + 6 * qn;
    if (z[0] != 0) return 0;
    int64_t rlo = (int64_t)z[2] - p->ref_fid + 1, rhi = rlo + nref - 1;
    *lo = z[1] > lo0 ? z[1] : lo0;
    *hi = z[3] < hi0 ? z[3] : hi0;
    if (rlo > *lo) *lo = rlo;
    if (rhi < *hi) *hi = rhi;
    return *hi >= *lo;
}

/* ---- sections 5, 6 ------------------------------------------------------------ */

typedef struct wave {
    int avm_nv, interval_us, diff, bimodal;
    const uint8_t *lens, *data; /* per-lead 16-bit lengths, then the data */
    size_t data_len;
    size_t raw_per_lead; /* non-zero when the 16-bit lengths overflowed */
} wave;

static aiecg_status read_wave_header(scp *p, int id, wave *w) {
    size_t n;
    const uint8_t *d = sec_data(p, id, &n);
    size_t need = 6 + 2 * (size_t)p->nleads;
    if (n < need)
        return aiecg__error_set(p->err, AIECG_ERR_TRUNCATED, "%s: section %d is too short for %d lead lengths", p->name,
                                id, p->nleads);
    w->avm_nv = rd16(d);
    w->interval_us = rd16(d + 2);
    w->diff = d[4];
    w->bimodal = d[5];
    w->lens = d + 6;
    w->data = d + need;
    w->data_len = n - need;
    size_t total = 0;
    for (int l = 0; l < p->nleads; l++) total += rd16(w->lens + 2 * l);
    /*
     * Uncompressed leads longer than 32767 samples overflow the 16-bit length
     * fields; then the section itself tells the per-lead size (equal leads).
     */
    w->raw_per_lead = 0;
    if (!p->ntables && id == 6 && total != w->data_len && w->data_len % (size_t)p->nleads == 0) {
        size_t per = w->data_len / (size_t)p->nleads;
        int overflow = 1;
        for (int l = 0; l < p->nleads; l++)
            if (rd16(w->lens + 2 * l) != (per & 0xFFFF)) overflow = 0;
        if (overflow) {
            w->raw_per_lead = per;
            total = w->data_len;
        }
    }
    if (total > w->data_len)
        return aiecg__error_set(p->err, AIECG_ERR_TRUNCATED,
                                "%s: section %d: lead data lengths (%zu bytes) exceed the section (%zu)", p->name, id,
                                total, w->data_len);
    if (w->avm_nv == 0)
        return aiecg__error_set(p->err, AIECG_ERR_FORMAT, "%s: section %d: amplitude value multiplier is 0", p->name, id);
    if (w->interval_us == 0)
        return aiecg__error_set(p->err, AIECG_ERR_FORMAT, "%s: section %d: sample time interval is 0", p->name, id);
    if (w->diff > 2)
        return aiecg__error_set(p->err, AIECG_ERR_FORMAT, "%s: section %d: difference encoding %d (0..2 allowed)",
                                p->name, id, w->diff);
    return AIECG_OK;
}

/* Is 1-based sample t inside a protected zone? Returns the zone's end or 0. */
static uint32_t protected_end(const scp *p, uint32_t t) {
    for (int q = 0; q < p->nqrs; q++) {
        const uint32_t *z = p->qrs + 6 * q;
        if (z[4] && t >= z[4] && t <= z[5]) return z[5];
    }
    return 0;
}

/* Next protected-zone start after t (1-based), or UINT32_MAX. */
static uint32_t next_protected(const scp *p, uint32_t t) {
    uint32_t best = UINT32_MAX;
    for (int q = 0; q < p->nqrs; q++) {
        uint32_t b = p->qrs[6 * q + 4];
        if (b > t && b < best) best = b;
    }
    return best;
}

/* Number of stored values for samples [s, e] under bimodal compression with factor f. */
static int64_t bimodal_count(const scp *p, uint32_t s, uint32_t e, int f) {
    int64_t n = 0;
    for (uint32_t t = s; t <= e;) {
        uint32_t pe = protected_end(p, t);
        if (pe) {
            uint32_t stop = pe < e ? pe : e;
            n += (int64_t)(stop - t) + 1;
            t = stop + 1;
        } else {
            uint32_t np = next_protected(p, t);
            uint32_t stop = np <= e ? np - 1 : e;
            n += ((int64_t)(stop - t) + 1 + f - 1) / f;
            t = stop + 1;
        }
        if (t == 0) break;
    }
    return n;
}

/*
 * Expands bimodal data: protected samples are copied; outside them each
 * decimated value is the mean of up to f samples and is placed at its
 * group's centre, with linear interpolation between the centres of one
 * unprotected segment and flat extension to its edges. Interpolation never
 * crosses into a protected zone, where the signal may jump (a beat that was
 * not reference-subtracted). EN 1064 leaves the interpolator to the decoder.
 */
static void bimodal_expand(const scp *p, uint32_t s, uint32_t e, int f, const int32_t *in, int64_t nin, double *out) {
    int64_t k = 0;
    uint64_t n = (uint64_t)e - s + 1;
    for (uint64_t i = 0; i < n; i++) out[i] = 0;
    for (uint32_t t = s; t <= e && k < nin;) {
        uint32_t pe = protected_end(p, t);
        if (pe) {
            uint32_t stop = pe < e ? pe : e;
            for (; t <= stop && k < nin; t++) out[t - s] = in[k++];
            t = stop + 1;
        } else {
            uint32_t np = next_protected(p, t);
            uint32_t stop = np <= e ? np - 1 : e;
            uint32_t seg = t;
            int64_t prev_c = -1;
            double prev_v = 0;
            for (; t <= stop && k < nin; t += (uint32_t)f) {
                uint32_t g_end = t + (uint32_t)f - 1 <= stop ? t + (uint32_t)f - 1 : stop;
                int64_t c = ((int64_t)t + g_end) / 2 - s;
                double v = in[k++];
                if (prev_c < 0) {
                    for (int64_t j = (int64_t)seg - s; j <= c; j++) out[j] = v;
                } else {
                    for (int64_t j = prev_c + 1; j <= c; j++)
                        out[j] = prev_v + (v - prev_v) * (double)(j - prev_c) / (double)(c - prev_c);
                }
                prev_c = c;
                prev_v = v;
            }
            if (prev_c >= 0)
                for (int64_t j = prev_c + 1; j <= (int64_t)stop - s; j++) out[j] = prev_v;
            t = stop + 1;
        }
        if (t == 0) break;
    }
}

/* ---- sections 8, 11 ----------------------------------------------------------- */

static aiecg_status read_statements(scp *p, aiecg_record *rec) {
    for (int id = 8; id <= 11; id += 3) {
        if (!p->s[id].present) continue;
        size_t n;
        const uint8_t *d = sec_data(p, id, &n);
        if (n < 9) continue;
        int ns = d[8];
        size_t i = 9;
        for (int k = 0; k < ns && i + 3 <= n; k++) {
            size_t sl = rd16(d + i + 1);
            if (sl > n - i - 3)
                return aiecg__error_set(p->err, AIECG_ERR_FORMAT,
                                        "%s: section %d: statement %d length %zu past the section end", p->name, id,
                                        k + 1, sl);
            const uint8_t *t = d + i + 3;
            size_t tl = sl;
            if (id == 11 && tl >= 1) { /* type byte, then text (type 1: acronym NUL text) */
                int type = t[0];
                t++, tl--;
                if (type == 1) {
                    size_t z = 0;
                    while (z < tl && t[z]) z++;
                    if (z + 1 < tl) t += z + 1, tl -= z + 1;
                }
            }
            char text[1024];
            while (tl && (*t == ' ' || *t == '\t')) t++, tl--;
            tag_string(t, tl, text, sizeof text);
            /* multi-line statements keep their text; empty ones are skipped */
            if (text[0]) {
                aiecg_status s = aiecg_record_add_statement(rec, text);
                if (s) return aiecg__error_set(p->err, s, "%s: out of memory for statements", p->name);
            }
            i += 3 + sl;
        }
        if (id == 8 && p->s[11].present) break; /* same statements twice is noise: prefer section 8 */
    }
    return AIECG_OK;
}

/* ---- the reader ----------------------------------------------------------------- */

static const char *base_name(const char *path) {
    const char *b = strrchr(path, '/');
    return b ? b + 1 : path;
}

aiecg_status aiecg__scp_read_mem(const uint8_t *data, size_t len, const char *name,
                                 const aiecg_read_options *opt, aiecg_record **out, aiecg_error *err) {
    *out = NULL;
    aiecg_read_options o = opt ? *opt : aiecg_read_options_default();
    scp P;
    memset(&P, 0, sizeof P);
    scp *p = &P;
    p->d = data;
    p->len = len;
    p->name = name ? name : "<memory>";
    p->err = err;
    aiecg_record *rec = NULL;
    int32_t *raw = NULL, *ref = NULL;
    double *acc = NULL;
    wave w6, w5;
    memset(&w6, 0, sizeof w6);
    memset(&w5, 0, sizeof w5);
    aiecg_status s;
    if ((s = read_pointers(p)) || (s = read_section2(p)) || (s = read_section3(p)) || (s = read_section4(p)))
        goto done;
    if (!p->s[6].present) {
        s = aiecg__error_set(err, AIECG_ERR_NOT_FOUND, "%s: no section 6 (rhythm data)", p->name);
        goto done;
    }
    if ((s = read_wave_header(p, 6, &w6))) goto done;
    int use_ref = p->refbeat_used && p->s[5].present && p->s[4].present;
    if (use_ref && (s = read_wave_header(p, 5, &w5))) goto done;
    if (p->refbeat_used && !use_ref) {
        s = aiecg__error_set(err, AIECG_ERR_FORMAT,
                             "%s: section 3 says reference beats were subtracted but section 4 or 5 is missing", p->name);
        goto done;
    }
    /* Output rate: the rhythm interval, or the reference-beat interval under bimodal compression. */
    int f = 1;
    int interval = w6.interval_us;
    if (w6.bimodal) {
        if (!use_ref || !p->has_protected) {
            s = aiecg__error_set(err, AIECG_ERR_FORMAT,
                                 "%s: section 6: bimodal compression without section 4 protected zones and section 5",
                                 p->name);
            goto done;
        }
        if (w6.interval_us % w5.interval_us || w6.interval_us / w5.interval_us < 1 || w6.interval_us / w5.interval_us > 16) {
            s = aiecg__error_set(err, AIECG_ERR_FORMAT,
                                 "%s: section 6: bimodal interval %d us is not a multiple (1..16) of section 5's %d us",
                                 p->name, w6.interval_us, w5.interval_us);
            goto done;
        }
        f = w6.interval_us / w5.interval_us;
        interval = w5.interval_us;
    } else if (use_ref && w5.interval_us != w6.interval_us) {
        s = aiecg__error_set(err, AIECG_ERR_UNSUPPORTED,
                             "%s: reference beat interval %d us differs from the rhythm's %d us", p->name,
                             w5.interval_us, w6.interval_us);
        goto done;
    }
    double fs = 1e6 / interval;
    /*
     * Uncompressed data holds what its length fields say: a writer that
     * clamped each lead to 65534 bytes (32767 samples) while section 3 keeps
     * the full range is read up to what is stored, with a warning.
     */
    if (!p->ntables) {
        for (int l = 0; l < p->nleads; l++) {
            size_t nb = w6.raw_per_lead ? w6.raw_per_lead : rd16(w6.lens + 2 * l);
            uint64_t have = nb / 2, want = (uint64_t)p->lend[l] - p->lstart[l] + 1;
            if (have < want && have > 0) {
                aiecg__log(&o.logger, AIECG_LOG_WARN,
                           "%s: section 6 lead %d stores %llu of the %llu samples section 3 declares; reading %llu",
                           p->name, l + 1, (unsigned long long)have, (unsigned long long)want,
                           (unsigned long long)have);
                p->lend[l] = p->lstart[l] + (uint32_t)have - 1;
            }
        }
    }
    uint32_t first = p->lstart[0], last = p->lend[0];
    for (int l = 1; l < p->nleads; l++) {
        if (p->lstart[l] < first) first = p->lstart[l];
        if (p->lend[l] > last) last = p->lend[l];
    }
    int64_t ns = (int64_t)last - first + 1;
    if (o.max_samples > 0 && ns > o.max_samples) {
        s = aiecg__error_set(err, AIECG_ERR_LIMIT, "%s: %lld samples per lead exceed the limit %lld", p->name,
                             (long long)ns, (long long)o.max_samples);
        goto done;
    }
    /* Reference beat: its length from section 4 (ms) at the section 5 rate. */
    int64_t nref = 0;
    if (use_ref) {
        nref = (int64_t)p->ref_len_ms * 1000 / w5.interval_us;
        if (nref < 1 || nref > 100000) {
            s = aiecg__error_set(err, AIECG_ERR_FORMAT, "%s: section 4: reference beat length %d ms is invalid",
                                 p->name, p->ref_len_ms);
            goto done;
        }
        ref = aiecg__calloc((size_t)nref * (size_t)p->nleads, sizeof *ref);
        if (!ref) {
            s = aiecg__error_set(err, AIECG_ERR_NOMEM, "out of memory");
            goto done;
        }
        const uint8_t *q = w5.data;
        for (int l = 0; l < p->nleads; l++) {
            size_t nb = rd16(w5.lens + 2 * l);
            if ((s = decode_lead(p, 5, l, q, nb, nref, ref + (size_t)l * nref))) goto done;
            undo_diff(ref + (size_t)l * nref, nref, w5.diff);
            q += nb;
        }
    }
    /* Every stored value takes at least one bit (16 uncompressed): bound the counts by the data before allocating. */
    for (int l = 0; l < p->nleads; l++) {
        size_t nb = w6.raw_per_lead ? w6.raw_per_lead : rd16(w6.lens + 2 * l);
        int64_t nl = (int64_t)p->lend[l] - p->lstart[l] + 1;
        int64_t nst = w6.bimodal ? bimodal_count(p, p->lstart[l], p->lend[l], f) : nl;
        if ((uint64_t)nst > (uint64_t)nb * (p->ntables ? 8 : 1) / (p->ntables ? 1 : 2)) {
            s = aiecg__error_set(err, AIECG_ERR_TRUNCATED, "%s: section 6 lead %d: %zu bytes cannot hold %lld samples",
                                 p->name, l + 1, nb, (long long)nst);
            goto done;
        }
    }
    if ((uint64_t)ns > (uint64_t)w6.data_len * 8 + 16) {
        s = aiecg__error_set(err, AIECG_ERR_FORMAT, "%s: section 3 lead ranges span %lld samples, more than section 6 can hold",
                             p->name, (long long)ns);
        goto done;
    }
    if ((s = aiecg_record_new(p->nleads, ns, fs, o.keep_adc, &rec, err))) goto done;
    raw = aiecg__calloc((size_t)ns, sizeof *raw);
    acc = aiecg__calloc((size_t)ns, sizeof *acc);
    if (!raw || !acc) {
        s = aiecg__error_set(err, AIECG_ERR_NOMEM, "out of memory");
        goto done;
    }
    /* Common ADC unit: the finer of the two multipliers. */
    int avm_out = w6.avm_nv;
    if (use_ref && w5.avm_nv < avm_out) avm_out = w5.avm_nv;
    if (use_ref) {
        /* Valid subtraction zones do not overlap, so together they span at most the record; a table
           of overlapping zones would cost nqrs x nref additions per lead. */
        int64_t span = 0, lo, hi;
        for (int qn = 0; qn < p->nqrs; qn++)
            if (sub_zone(p, qn, nref, first, last, &lo, &hi)) span += hi - lo + 1;
        if (span > ns) {
            s = aiecg__error_set(err, AIECG_ERR_FORMAT,
                                 "%s: section 4: reference beat subtraction zones overlap (%lld samples in a %lld-sample record)",
                                 p->name, (long long)span, (long long)ns);
            goto done;
        }
    }
    const uint8_t *q = w6.data;
    for (int l = 0; l < p->nleads; l++) {
        size_t nb = w6.raw_per_lead ? w6.raw_per_lead : rd16(w6.lens + 2 * l);
        uint32_t ls = p->lstart[l], le = p->lend[l];
        int64_t nl = (int64_t)le - ls + 1;
        int64_t nstored = w6.bimodal ? bimodal_count(p, ls, le, f) : nl;
        if ((s = decode_lead(p, 6, l, q, nb, nstored, raw))) goto done;
        q += nb;
        undo_diff(raw, nstored, w6.diff);
        if (w6.bimodal) {
            bimodal_expand(p, ls, le, f, raw, nstored, acc);
        } else {
            for (int64_t i = 0; i < nl; i++) acc[i] = raw[i];
        }
        for (int64_t i = 0; i < nl; i++) acc[i] *= w6.avm_nv; /* nV */
        if (use_ref) {
            const int32_t *rb = ref + (size_t)l * nref;
            for (int qn = 0; qn < p->nqrs; qn++) {
                int64_t lo, hi;
                if (!sub_zone(p, qn, nref, ls, le, &lo, &hi)) continue;
                for (int64_t t = lo; t <= hi; t++) {
                    int64_t ri = (int64_t)p->ref_fid - (int64_t)p->qrs[6 * qn + 2] + t - 1;
                    acc[t - (int64_t)ls] += (double)rb[ri] * w5.avm_nv;
                }
            }
        }
        float *mv = aiecg_record_lead_data_mut(rec, l);
        int32_t *adc = aiecg_record_lead_adc_mut(rec, l);
        int64_t off = (int64_t)ls - first;
        for (int64_t i = 0; i < nl; i++) {
            mv[off + i] = (float)(acc[i] * 1e-6);
            if (adc) adc[off + i] = (int32_t)lrint(acc[i] / avm_out);
        }
        aiecg_lead_info info = {0};
        char label[32];
        snprintf(label, sizeof label, "lead code %d", p->lcode[l]);
        info.label = label;
        for (size_t k = 0; k < AIECG__COUNTOF(scp_leads); k++)
            if (scp_leads[k].code == p->lcode[l]) {
                info.label = scp_leads[k].label;
                info.lead = scp_leads[k].lead;
            }
        info.gain = 1e6 / avm_out;
        info.units = "nV";
        info.adc_resolution = 16;
        if ((s = aiecg_record_set_lead(rec, l, &info))) {
            s = aiecg__error_set(err, s, "%s: out of memory", p->name);
            goto done;
        }
    }
    aiecg_record_meta m;
    aiecg_record_meta_get(rec, &m);
    char pid[256] = "", dev[256] = "", rname[256];
    if ((s = read_section1(p, &m, pid, dev, sizeof pid))) goto done;
    snprintf(rname, sizeof rname, "%s", base_name(p->name));
    char *dot = strrchr(rname, '.');
    if (dot && dot != rname) *dot = 0;
    m.record_name = rname;
    m.format = "scp";
    m.patient_id = pid;
    m.device = dev;
    if ((s = aiecg_record_set_meta(rec, &m))) {
        s = aiecg__error_set(err, s, "%s: out of memory", p->name);
        goto done;
    }
    if ((s = read_statements(p, rec))) goto done;
    if (o.derive_limb_leads && (s = aiecg_record_derive_limb_leads(rec, NULL))) {
        s = aiecg__error_set(err, s, "%s: cannot derive limb leads", p->name);
        goto done;
    }
    *out = rec;
    rec = NULL;
done:
    aiecg_record_free(rec);
    aiecg__free(raw);
    aiecg__free(acc);
    aiecg__free(ref);
    aiecg__free(p->tables);
    aiecg__free(p->qrs);
    return s;
}

aiecg_status aiecg__scp_read_path(const char *path, const aiecg_read_options *opt, aiecg_record **out,
                                  aiecg_error *err) {
    return aiecg__read_path_via_mem(path, aiecg__scp_read_mem, opt, out, err);
}

/*
 * Section 0 layout: ID 0 at byte 8 and "SCPECG" at byte 16, and the section
 * 0 CRC when the section lies within the bytes given; the record CRC is
 * checked only by the reader.
 */
int aiecg__scp_probe(const uint8_t *head, size_t len, const char *path) {
    if (head && len >= 22 && rd16(head + 8) == 0 && memcmp(head + 16, "SCPECG", 6) == 0) {
        uint32_t s0 = rd32(head + 10);
        if (s0 >= 16 && s0 <= len - 6) return crc_ccitt(head + 8, s0 - 2) == rd16(head + 6) ? 98 : 60;
        return 90;
    }
    if (aiecg__path_has_ext(path, ".scp")) return 30;
    return 0;
}
