/*
 * Internals shared by the EDF+, CSV and JSON readers/writers: the one text
 * form of an annotation that all three use, so that a WFDB annotation
 * (code, subtype, channel, num, aux) survives a trip through any of them.
 *
 *   text  := MNEMONIC ( ' sub=' INT | ' chan=' INT | ' num=' INT )* [ ' aux=' ESCAPED-REST ]
 *
 * MNEMONIC is WFDB's ("N", "V", "+", ...). In the aux text, bytes below 0x20
 * and the backslash are written as \xHH, so the text never holds a TAL
 * delimiter (0x14, 0x15, 0x00) or a line break. A NOTE (code 22) whose aux is
 * plain free text is written as that text alone; conversely, text that does
 * not parse as the form above (free text from other EDF+ writers, e.g.
 * "Recording starts") is read as a NOTE with that text as aux.
 */
#ifndef AIECG_EDF_INT_H
#define AIECG_EDF_INT_H

#include "io_int.h"
#include "../core/sbuf.h"

/* Appends the text form of a. */
void aiecg__ann_to_text(aiecg__sbuf *b, const aiecg_annotation *a);

/*
 * Parses n bytes of text (not NUL-terminated) into *out. aux, when set,
 * points into scratch, which must hold n + 1 bytes. Bytes that are not valid
 * UTF-8 are replaced by '?'. Never fails: unparsable text becomes a NOTE.
 * out->sample is left as it was.
 */
void aiecg__ann_from_text(const char *text, size_t n, char *scratch, aiecg_annotation *out);

/* Rounds x to `digits` significant decimal digits (removes binary noise of a decimal quotient). */
double aiecg__snap_sig(double x, int digits);

#endif
