/* A stand-in for Wazuh's `shared.h` with only what `src/os_regex/*.c` uses, so the upstream
 * OS_Regex/OS_Match sources compile on their own for the `os_regex_diff` fuzz target.
 * Our own definitions; allocation failure aborts, as the real `os_*` macros exit. */
#ifndef LOGTEST_FUZZ_SHARED_H
#define LOGTEST_FUZZ_SHARED_H
#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "os_regex.h"

#define os_calloc(n, s, p) do { (p) = calloc((n), (s)); if (!(p)) abort(); } while (0)
#define os_malloc(s, p) do { (p) = malloc(s); if (!(p)) abort(); } while (0)
#define os_realloc(x, s, p) do { (p) = realloc((x), (s)); if (!(p)) abort(); } while (0)
#define os_strdup(x, p) do { (p) = strdup(x); if (!(p)) abort(); } while (0)
#define os_free(x) do { free(x); (x) = NULL; } while (0)
#define w_FreeArray(a) do { if (a) { char **it_ = (a); for (; *it_; it_++) { os_free(*it_); } } } while (0)
#define w_mutex_init(m, a) pthread_mutex_init((m), (a))
#define w_mutex_lock(m) pthread_mutex_lock(m)
#define w_mutex_unlock(m) pthread_mutex_unlock(m)
#define w_mutex_destroy(m) pthread_mutex_destroy(m)
#endif
