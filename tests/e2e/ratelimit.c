/*
 * e2e-ratelimit RATE [AFTER]: copies stdin to stdout, at most RATE bytes a
 * second once AFTER bytes (default 0) have passed at full speed.
 *
 * The e2e harness puts it in front of xl migrate-receive to make a link
 * slower than the guest dirties memory, after round 0 (the whole guest)
 * has gone at the emulated link's own speed: a guest that never converges
 * without auto-converge (scenario pvh_auto_converge).  A token bucket of
 * 64 KiB: the rate holds over any stretch longer than that, idle or not.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#define BUCKET (64 * 1024)

static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int write_all(const char *p, size_t n)
{
    while (n) {
        ssize_t w = write(1, p, n);

        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        p += w;
        n -= w;
    }
    return 0;
}

int main(int argc, char **argv)
{
    static char buf[BUCKET];
    double rate, tokens = BUCKET, last;
    unsigned long long after, passed = 0;
    char *end;

    if (argc < 2 || argc > 3 || (rate = strtod(argv[1], &end)) <= 0 ||
        *end || (after = argc == 3 ? strtoull(argv[2], &end, 10) : 0,
                 argc == 3 && *end)) {
        fprintf(stderr, "usage: e2e-ratelimit BYTES_PER_S [AFTER_BYTES]\n");
        return 2;
    }
    last = now_s();
    for (;;) {
        size_t want = sizeof(buf);
        ssize_t r;

        if (passed >= after && tokens < want)
            want = tokens >= 4096 ? (size_t)tokens : 4096;
        r = read(0, buf, want);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return r < 0;
        if (passed >= after) {
            double t = now_s();

            tokens += (t - last) * rate;
            if (tokens > BUCKET)
                tokens = BUCKET;
            last = t;
            if (tokens < r) {
                double wait = (r - tokens) / rate;
                struct timespec ts = { (time_t)wait,
                                       (long)((wait - (time_t)wait) * 1e9) };

                nanosleep(&ts, NULL);
                t = now_s();
                tokens += (t - last) * rate;
                last = t;
            }
            tokens -= r;
        } else {
            last = now_s();
        }
        passed += r;
        if (write_all(buf, r))
            return 1;
    }
}
