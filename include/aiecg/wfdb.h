/*
 * WFDB-specific entry points (PhysioNet WFDB header(5), signal(5), annot(5)).
 * Ordinary use goes through aiecg_record_open / aiecg_record_write; these are
 * for embedders that hold WFDB files in memory, and for tools that need
 * annotation files other than the record's own (e.g. LUDB's per-lead ".i",
 * ".ii", ... delineation files). All functions are reentrant: they share no
 * state; a record must not be mutated from two threads at once.
 */
#ifndef AIECG_WFDB_H
#define AIECG_WFDB_H

#include "aiecg/io.h"

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Reads a WFDB record from memory. header/hlen: the text of the .hea file.
 * dat[k]/dlen[k]: the contents of the k-th distinct signal file, in the order
 * the header first names them (a header naming "a.dat" then "b.dat" wants
 * dat[0] = a.dat, dat[1] = b.dat). A header that needs more files than given,
 * or a multi-segment header (its segments are further headers), fails with
 * AIECG_ERR_NOT_FOUND naming the missing file. Annotations are not read (use
 * aiecg_wfdb_annotations_read_memory). opt may be NULL.
 */
AIECG_API aiecg_status aiecg_wfdb_read_memory(const void *header, size_t hlen,
                                              const void *const *dat, const size_t *dlen,
                                              int nfiles, const aiecg_read_options *opt,
                                              aiecg_record **out, aiecg_error *err);

/*
 * Reads an MIT-format annotation file (any extension: "100.atr", "1.ii") and
 * appends its annotations to rec. Annotation times are in frames of the
 * record; when the record was read with samples-per-frame > 1 (expanded to
 * the highest rate, see docs/io-wfdb.md) pass that factor as sample_scale so
 * times land on the record's sample axis; 1 otherwise (0 is taken as 1).
 * Pseudo-annotations (SKIP, NUM, SUB, CHN, AUX) are folded into the
 * annotations they modify; time-0 NOTE annotations that describe the file
 * ("## time resolution", mnemonic tables) are skipped, as WFDB does.
 */
AIECG_API aiecg_status aiecg_wfdb_annotations_read(const char *path, int64_t sample_scale,
                                                   aiecg_record *rec, aiecg_error *err);
AIECG_API aiecg_status aiecg_wfdb_annotations_read_memory(const void *data, size_t len,
                                                          const char *name, int64_t sample_scale,
                                                          aiecg_record *rec, aiecg_error *err);

/*
 * Reads an annotation file into a new array (free with aiecg_wfdb_annotations_free).
 * Times are as stored (frames). aux strings belong to the array.
 */
AIECG_API aiecg_status aiecg_wfdb_annotations_load(const char *path, aiecg_annotation **out,
                                                   int64_t *count, aiecg_error *err);
AIECG_API void aiecg_wfdb_annotations_free(aiecg_annotation *ann, int64_t count);

/*
 * Writes annotations (sorted by sample, as a record keeps them) as an MIT
 * annotation file, with SKIP for gaps over 1023 samples and SUB/CHN/NUM/AUX
 * pseudo-annotations where the fields need them. Code 0 (NOTQRS) entries are
 * not written: the format reserves a zero word for end-of-file.
 */
AIECG_API aiecg_status aiecg_wfdb_annotations_write(const char *path, const aiecg_annotation *ann,
                                                    int64_t count, aiecg_error *err);

/*
 * The samples-per-frame expansion factor applied when the record at `path`
 * was read (1 for ordinary records). Useful with aiecg_wfdb_annotations_read.
 */
AIECG_API int64_t aiecg_wfdb_frame_factor(const char *path);

#ifdef __cplusplus
}
#endif
#endif
