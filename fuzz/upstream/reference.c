/* A small C face over upstream's OS_Regex and OS_Match for the `os_regex_diff` fuzz target:
 * compile, run, read the groups, free. Our own code; the engine is upstream's, unmodified. */
#include "shared.h"

typedef struct {
    OSRegex reg;
    regex_matching match;
} ref_regex;

ref_regex *ref_regex_compile(const char *pattern, int captures) {
    ref_regex *r = calloc(1, sizeof(ref_regex));
    if (!r) abort();
    if (!OSRegex_Compile(pattern, &r->reg, captures ? OS_RETURN_SUBSTRING : 0)) {
        free(r);
        return NULL;
    }
    return r;
}

/* 1 and the end pointer's offset from `subject` (it can be -1) on a match, else 0. */
int ref_regex_exec(ref_regex *r, const char *subject, long *end) {
    const char *ret = OSRegex_Execute_ex(subject, &r->reg, &r->match);
    if (!ret) return 0;
    *end = (long)(ret - subject);
    return 1;
}

/* The i-th captured group of the last match, or NULL past the last one. */
const char *ref_regex_group(const ref_regex *r, size_t i) {
    if (!r->match.sub_strings) return NULL;
    for (size_t k = 0; k <= i; k++) {
        if (!r->match.sub_strings[k]) return NULL;
    }
    return r->match.sub_strings[i];
}

void ref_regex_free(ref_regex *r) {
    OSRegex_free_regex_matching(&r->match);
    OSRegex_FreePattern(&r->reg);
    free(r);
}

/* -1 when the pattern does not compile, else whether it matches the C string `subject`. */
int ref_match(const char *pattern, const char *subject) {
    OSMatch m;
    memset(&m, 0, sizeof m);
    if (!OSMatch_Compile(pattern, &m, 0)) return -1;
    int hit = OSMatch_Execute(subject, strlen(subject), &m) ? 1 : 0;
    OSMatch_FreePattern(&m);
    return hit;
}
