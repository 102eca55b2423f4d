/*
 * bench_load.c -- is the scaling-law fit graceful when the machine is busy?
 * (issue 25, item 0).  It runs the command `latentscale fit` on the paper
 * data (../shared/data/openllm_merged.csv with benchmarks.csv) with one
 * thread, two threads and the default, first on a quiet machine, then with
 * one core kept busy by a spinning child process, then with every core
 * busy, and prints wall and CPU seconds of each fit and the two goals:
 *   - quiet: two threads at least 1.6 times faster than one (wall);
 *   - one core busy: the default threads at most 1.3 times the wall of
 *     one thread.
 * The fit alone is timed (`--no-calibrate`: since 0.13.0 the command also
 * calibrates its intervals by five refits of the same kind, which multiply
 * the time by about ten and say nothing more about the threads).
 * The command is run as a user runs it (a child process, environment
 * inherited), so a wait policy the user sets in the environment is measured
 * too.  "Quiet" means no load of ours: the machine is shared, so the load
 * average is printed beside each phase.
 *
 * usage: bench_load [DATA_DIR (../shared/data)] [K list, e.g. 2,4 (default 2,4)]
 * Exits 77 when the data folder is absent.
 */
#define _DEFAULT_SOURCE /* wait4 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef LS_CLI_PATH
#error "LS_CLI_PATH (the latentscale command) must be defined by the build"
#endif

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static double loadavg1(void)
{
    double l[1] = {-1};
    if (getloadavg(l, 1) < 1) return -1;
    return l[0];
}

/* One fit as a child process; wall and CPU seconds (user + system of the child). */
static int fit(const char *data, const char *floors, int K, int threads, double *wall, double *cpu)
{
    char ks[16], ts[16];
    snprintf(ks, sizeof ks, "%d", K);
    snprintf(ts, sizeof ts, "%d", threads);
    char out[] = "/tmp/bench_load_XXXXXX";
    int fd = mkstemp(out);
    if (fd < 0) return -1;
    close(fd);
    double t0 = now();
    pid_t pid = fork();
    if (pid < 0) return -1;
    if (pid == 0) {
        int devnull = open("/dev/null", O_WRONLY);
        if (devnull >= 0) {
            dup2(devnull, 1);
            dup2(devnull, 2);
        }
        execl(LS_CLI_PATH, "latentscale", "fit", data, "--floors", floors, "--skills", ks, "--threads", ts,
              "--no-calibrate", "--quiet", "--out", out, (char *)NULL);
        _exit(127);
    }
    int status = 0;
    struct rusage ru;
    while (wait4(pid, &status, 0, &ru) < 0)
        if (errno != EINTR) return -1;
    *wall = now() - t0;
    *cpu = (double)ru.ru_utime.tv_sec + 1e-6 * (double)ru.ru_utime.tv_usec + (double)ru.ru_stime.tv_sec +
           1e-6 * (double)ru.ru_stime.tv_usec;
    unlink(out);
    if (!WIFEXITED(status)) return -1;
    return WEXITSTATUS(status);
}

static pid_t spinner(void)
{
    pid_t pid = fork();
    if (pid == 0) {
        volatile unsigned long x = 0;
        for (;;) x++;
    }
    return pid;
}

static void stop(pid_t *p, int n)
{
    for (int i = 0; i < n; i++)
        if (p[i] > 0) {
            kill(p[i], SIGKILL);
            waitpid(p[i], NULL, 0);
        }
}

int main(int argc, char **argv)
{
    const char *dir = argc > 1 ? argv[1] : "../shared/data";
    const char *klist = argc > 2 ? argv[2] : "2,4";
    char data[4096], floors[4096];
    snprintf(data, sizeof data, "%s/openllm_merged.csv", dir);
    snprintf(floors, sizeof floors, "%s/benchmarks.csv", dir);
    struct stat st;
    if (stat(data, &st) != 0 || stat(floors, &st) != 0) {
        printf("bench_load: skipped: %s not found (the shared data folder is absent)\n", data);
        return 77;
    }
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    if (ncpu < 1) ncpu = 1;
    int Ks[8], nK = 0;
    for (const char *s = klist; *s && nK < 8;) {
        Ks[nK++] = atoi(s);
        s = strchr(s, ',');
        if (!s) break;
        s++;
    }
    const char *wp = getenv("OMP_WAIT_POLICY"), *sc = getenv("GOMP_SPINCOUNT");
    printf("bench_load: %s, %ld cores; OMP_WAIT_POLICY=%s GOMP_SPINCOUNT=%s (unset: the command's own)\n", LS_CLI_PATH,
           ncpu, wp ? wp : "unset", sc ? sc : "unset");
    printf("%-4s %-16s %-8s %9s %9s %8s\n", "K", "load", "threads", "wall s", "CPU s", "load1");
    int fails = 0;
    for (int k = 0; k < nK; k++) {
        int K = Ks[k];
        double w1q = 0, w2q = 0, w1b = 0, wdb = 0;
        const int busy_of[3] = {0, 1, (int)ncpu};
        const char *name[3] = {"quiet", "one core busy", "all cores busy"};
        for (int phase = 0; phase < 3; phase++) {
            if (phase == 2 && ncpu == 1) break;
            pid_t sp[64] = {0};
            int nb = busy_of[phase] < 64 ? busy_of[phase] : 64;
            for (int i = 0; i < nb; i++) sp[i] = spinner();
            if (nb) sleep(1);
            const int th[3] = {1, 2, 0};
            for (int i = 0; i < 3; i++) {
                if (phase > 0 && th[i] == 2) continue;
                double w = 0, c = 0;
                int rc = fit(data, floors, K, th[i], &w, &c);
                char tl[16];
                snprintf(tl, sizeof tl, th[i] ? "%d" : "default", th[i]);
                printf("%-4d %-16s %-8s %9.2f %9.2f %8.2f%s\n", K, name[phase], tl, w, c, loadavg1(),
                       rc == 0 ? "" : "  (fit failed)");
                fflush(stdout);
                if (rc != 0) fails++;
                if (phase == 0 && th[i] == 1) w1q = w;
                if (phase == 0 && th[i] == 2) w2q = w;
                if (phase == 1 && th[i] == 1) w1b = w;
                if (phase == 1 && th[i] == 0) wdb = w;
            }
            stop(sp, nb);
        }
        double sq = w2q > 0 ? w1q / w2q : 0, rb = w1b > 0 ? wdb / w1b : 0;
        printf("K = %d: quiet speed-up of 2 threads %.2f (goal >= 1.6: %s); one core busy, default / 1 thread %.2f "
               "(goal <= 1.3: %s)\n",
               K, sq, sq >= 1.6 ? "met" : "NOT met", rb, rb <= 1.3 ? "met" : "NOT met");
    }
    return fails ? 1 : 0;
}
