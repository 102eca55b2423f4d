/*
 * atomic.h -- write a file atomically: open a temporary file in the same
 * folder, write, flush and fsync, then rename over the target.  A killed run
 * leaves the previous file intact and at most a stray ".tmp" sibling.
 */
#ifndef LS_ATOMIC_H
#define LS_ATOMIC_H

#include "kernel/core.h"
#include <stdio.h>

typedef struct ls_atomic {
    FILE *fp;      /* write here between open and commit   */
    char *target;  /* owned                                */
    char *tmp;     /* owned                                */
} ls_atomic;

/* Refuses a directory as target and an unwritable folder, with a message. */
int ls_atomic_open(ls_atomic *a, const char *path, ls_error *err);
/* Close, check every write succeeded, rename.  Always releases a. */
int ls_atomic_commit(ls_atomic *a, ls_error *err);
/* Close and remove the temporary file.  Always releases a; accepts a never opened. */
void ls_atomic_abort(ls_atomic *a);

#endif
