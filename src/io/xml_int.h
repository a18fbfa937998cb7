/*
 * A small, safe XML reader shared by the XML-based ECG formats (HL7 aECG,
 * GE MUSE, Philips Sierra). It is a pull parser (aiecg__xml_reader: start
 * tag, end tag, text events) plus a compact tree built from it for readers
 * that want to look things up by path.
 *
 * Safety properties (XML 1.0, W3C REC 2008, restricted on purpose):
 *  - no DTD processing: a DOCTYPE is skipped, its internal subset is never
 *    interpreted, external identifiers are never fetched; only the five
 *    predefined entities and numeric character references are expanded, so
 *    "billion laughs" and XXE documents fail with an "undefined entity" error;
 *  - limits on input size, nesting depth, attributes per element, element
 *    count and name length, all checked before memory is committed;
 *  - input is UTF-8 (validated: overlong forms, surrogates and code points
 *    above U+10FFFF are errors with their byte offset), UTF-16 LE/BE with a
 *    BOM (or the "<?" signature) transcoded to UTF-8 first, and ISO-8859-1
 *    when the XML declaration says so. Offsets in messages count bytes of
 *    the UTF-8 text (equal to input offsets for UTF-8 input).
 */
#ifndef AIECG_XML_INT_H
#define AIECG_XML_INT_H

#include "io_int.h"

typedef struct aiecg__xml_limits {
    size_t max_input;     /* bytes of input; 0 = 512 MiB */
    int max_depth;        /* element nesting; 0 = 256 */
    int max_attrs;        /* attributes per element; 0 = 64 */
    int64_t max_elements; /* elements in the document; 0 = 4,000,000 */
} aiecg__xml_limits;

/* ---- text preparation ---------------------------------------------------- */

/*
 * Converts the input to NUL-terminated UTF-8 (BOM removed) and validates it.
 * *out is allocated with aiecg__malloc. *transcoded tells whether offsets
 * differ from the input's (UTF-16 or Latin-1 input). Errors name the byte offset.
 */
aiecg_status aiecg__xml_to_utf8(const uint8_t *data, size_t len, size_t max_input, char **out,
                                size_t *out_len, int *transcoded, aiecg_error *err);

/* ---- pull parser ---------------------------------------------------------- */

typedef enum aiecg__xml_event {
    AIECG__XML_EOF = 0, /* end of a well-formed document */
    AIECG__XML_START,   /* start tag: name, attrs (an empty element also gives an END) */
    AIECG__XML_END,     /* end tag: name */
    AIECG__XML_TEXT     /* character data or CDATA, entities expanded: text, text_len */
} aiecg__xml_event;

typedef struct aiecg__xml_rattr {
    const char *name;  /* qualified name as written */
    const char *value; /* entities expanded */
} aiecg__xml_rattr;

typedef struct aiecg__xml_reader aiecg__xml_reader;

/* Creates a reader over NUL-terminated UTF-8 text (not copied; must outlive the reader). */
aiecg_status aiecg__xml_reader_new(const char *text, size_t len, const aiecg__xml_limits *lim,
                                   aiecg__xml_reader **out, aiecg_error *err);
void aiecg__xml_reader_free(aiecg__xml_reader *r);
/*
 * Advances to the next event. On failure returns the status with a message
 * naming the byte offset. The event's strings stay valid until the next call.
 */
aiecg_status aiecg__xml_next(aiecg__xml_reader *r, aiecg__xml_event *ev, aiecg_error *err);
const char *aiecg__xml_ev_name(const aiecg__xml_reader *r);  /* qualified name of START/END */
int aiecg__xml_ev_nattrs(const aiecg__xml_reader *r);
const aiecg__xml_rattr *aiecg__xml_ev_attr(const aiecg__xml_reader *r, int i);
const char *aiecg__xml_ev_text(const aiecg__xml_reader *r, size_t *len);
size_t aiecg__xml_ev_offset(const aiecg__xml_reader *r);     /* byte offset of the event */
int aiecg__xml_ev_depth(const aiecg__xml_reader *r);         /* depth of the element (root = 1) */

/* ---- tree ---------------------------------------------------------------- */

typedef struct aiecg__xml_attr {
    const char *name;  /* local name (prefix removed) */
    const char *qname; /* as written, e.g. "xsi:type" */
    const char *value;
} aiecg__xml_attr;

typedef struct aiecg__xml_node {
    const char *name;  /* local name: "AnnotatedECG" for <v3:AnnotatedECG> */
    const char *qname;
    aiecg__xml_attr *attrs;
    int nattrs;
    const char *text; /* direct character data, concatenated, leading/trailing space trimmed; never NULL */
    size_t text_len;
    size_t offset; /* byte offset of '<' in the UTF-8 text */
    struct aiecg__xml_node *parent, *first, *last, *next;
    size_t text_cap_; /* private to the tree builder */
} aiecg__xml_node;

typedef struct aiecg__xml_doc aiecg__xml_doc;

/* Parses a whole document (any supported encoding) into a tree. */
aiecg_status aiecg__xml_parse(const uint8_t *data, size_t len, const aiecg__xml_limits *lim,
                              aiecg__xml_doc **out, aiecg_error *err);
void aiecg__xml_free(aiecg__xml_doc *doc);
aiecg__xml_node *aiecg__xml_root(const aiecg__xml_doc *doc);
/* 1 if the input was transcoded (UTF-16, Latin-1): offsets refer to the UTF-8 text. */
int aiecg__xml_transcoded(const aiecg__xml_doc *doc);

/* First child element with local name `name` (NULL: any), or NULL. */
aiecg__xml_node *aiecg__xml_child(const aiecg__xml_node *n, const char *name);
/* Next sibling after n with the same local name as `name` (NULL: any). */
aiecg__xml_node *aiecg__xml_next_named(const aiecg__xml_node *n, const char *name);
/* Follows "a/b/c" through first-match children; NULL if any step is missing. */
aiecg__xml_node *aiecg__xml_path(const aiecg__xml_node *n, const char *path);
/* First descendant (depth first, pre-order, excluding n) with that local name. */
aiecg__xml_node *aiecg__xml_find(const aiecg__xml_node *n, const char *name);
/*
 * Pre-order walk of the subtree under `top`: the element after cur (start with
 * cur = top), or NULL when the subtree is exhausted. With name, skips to the
 * next element of that local name.
 */
aiecg__xml_node *aiecg__xml_walk(const aiecg__xml_node *top, const aiecg__xml_node *cur, const char *name);
/* Attribute value by qualified name, or else by local name; NULL if absent. */
const char *aiecg__xml_get_attr(const aiecg__xml_node *n, const char *name);
/* Text of the node at path below n ("" if the path is missing). */
const char *aiecg__xml_path_text(const aiecg__xml_node *n, const char *path);
/* Writes "/a/b/c" (the node's element path) into buf for messages; returns buf. */
const char *aiecg__xml_node_path(const aiecg__xml_node *n, char *buf, size_t size);

/*
 * Content sniffing for probes: the local name of the first element in the
 * first bytes of a file (8-bit or UTF-16 text, after the declaration,
 * comments and DOCTYPE). Returns 1 and the name, or 0.
 */
int aiecg__xml_probe_root(const uint8_t *head, size_t len, char *name, size_t size);

/* ---- base64 (RFC 4648), shared by MUSE and Philips ----------------------- */

/* Upper bound on decoded bytes of n base64 characters. */
size_t aiecg__base64_max_decoded(size_t n);
/*
 * Decodes base64 text (whitespace ignored, '=' padding optional at the end)
 * into out (capacity cap). Returns 0 and *out_len, or -1 with *bad_at set to
 * the offset of the offending character in s (or n for a truncated quantum).
 */
int aiecg__base64_decode(const char *s, size_t n, uint8_t *out, size_t cap, size_t *out_len,
                         size_t *bad_at);

#endif
