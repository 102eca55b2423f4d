/*
 * atomic.c -- temporary file, fsync, rename.
 */
#include "kernel/atomic.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void release(ls_atomic *a)
{
    ls_free(a->target);
    ls_free(a->tmp);
    a->target = a->tmp = NULL;
    a->fp = NULL;
}

int ls_atomic_open(ls_atomic *a, const char *path, ls_error *err)
{
    memset(a, 0, sizeof *a);
    if (!path || !*path) return ls_fail(err, LS_ERR_OPTION, "output path is empty");
    struct stat st;
    if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
        return ls_fail(err, LS_ERR_IO, "%s: is a directory, expected a file path", path);
    size_t n = strlen(path);
    a->target = ls_strdup(path);
    a->tmp = ls_malloc(n + 32);
    if (!a->target || !a->tmp) {
        release(a);
        return ls_nomem(err);
    }
    snprintf(a->tmp, n + 32, "%s.tmp.XXXXXX", path);
    int fd = mkstemp(a->tmp);
    if (fd < 0) {
        int e = errno;
        release(a);
        return ls_fail(err, LS_ERR_IO, "%s: cannot write: %s", path, strerror(e));
    }
    /* mkstemp makes 0600; outputs are ordinary files */
    mode_t um = umask(0);
    umask(um);
    (void)fchmod(fd, 0666 & ~um);
    a->fp = fdopen(fd, "w");
    if (!a->fp) {
        int e = errno;
        close(fd);
        unlink(a->tmp);
        release(a);
        return ls_fail(err, LS_ERR_IO, "%s: cannot write: %s", path, strerror(e));
    }
    return LS_OK;
}

int ls_atomic_commit(ls_atomic *a, ls_error *err)
{
    int bad = ferror(a->fp) || fflush(a->fp) != 0 || fsync(fileno(a->fp)) != 0;
    int e = errno;
    if (fclose(a->fp) != 0 && !bad) {
        bad = 1;
        e = errno;
    }
    a->fp = NULL;
    if (!bad && rename(a->tmp, a->target) != 0) {
        bad = 1;
        e = errno;
    }
    if (bad) {
        unlink(a->tmp);
        int rc = ls_fail(err, LS_ERR_IO, "%s: write failed: %s", a->target, strerror(e));
        release(a);
        return rc;
    }
    release(a);
    return LS_OK;
}

void ls_atomic_abort(ls_atomic *a)
{
    if (a->fp) fclose(a->fp);
    if (a->tmp) unlink(a->tmp);
    release(a);
}

int ls_write_file(const char *path, const void *buf, size_t len, ls_error *err)
{
    ls_atomic a;
    int rc = ls_atomic_open(&a, path, err);
    if (rc) return rc;
    if (len && fwrite(buf, 1, len, a.fp) != len) {
        ls_atomic_abort(&a);
        return ls_fail(err, LS_ERR_IO, "%s: write failed", path);
    }
    return ls_atomic_commit(&a, err);
}
