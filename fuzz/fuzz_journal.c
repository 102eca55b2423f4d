/*
 * fuzz_journal.c -- libFuzzer harness for select's journal reader
 * (lss_journal_take: the fits a killed select finished, which a run on the
 * same inputs reuses).  The input is the journal's JSON text; the key it
 * is matched against is the one the text names, so the entries are read.
 *
 * Properties: the count taken equals the slots filled; every filled slot
 * lies inside the K range and the jobs per K; a full fit's flags are 0 or
 * 1 and its estimate finite (the folds start from it); a job's per-family
 * errors, where kept, are finite, not negative, and as many as its cells.
 */
#include "fuzz_common.h"
#include "scaling/tasks.h"

#include <math.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

enum { KMIN = 1, NK = 4, PER = 4 };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_error_t je;
    json_t *root = json_loadb((const char *)data, size, 0, &je);
    if (!root) return 0;
    const char *ks = json_string_value(json_object_get(root, "key"));
    uint64_t key = ks ? strtoull(ks, NULL, 16) : 0;
    lss_job job[NK * PER];
    memset(job, 0, sizeof job);
    size_t n = lss_journal_take(root, key, KMIN, NK, PER, job);
    size_t filled = 0;
    for (size_t s = 0; s < NK * PER; s++) {
        if (!job[s].done) continue;
        filled++;
        REQUIRE(job[s].done == 1);
        if (s % PER == 0) {
            REQUIRE(job[s].converged == 0 || job[s].converged == 1);
            REQUIRE(job[s].sampled == 0 || job[s].sampled == 1);
            REQUIRE(job[s].theta && job[s].dim > 0);
            for (size_t q = 0; q < job[s].dim; q++) REQUIRE(isfinite(job[s].theta[q]));
        }
        if (job[s].fam_abs || job[s].fam_cells) {
            REQUIRE(job[s].fam_abs && job[s].fam_cells && job[s].nfam > 0);
            for (size_t q = 0; q < job[s].nfam; q++) REQUIRE(isfinite(job[s].fam_abs[q]) && job[s].fam_abs[q] >= 0);
        }
        ls_free(job[s].theta);
        ls_free(job[s].fam_abs);
        ls_free(job[s].fam_cells);
    }
    REQUIRE(n == filled);
    json_decref(root);
    return 0;
}
