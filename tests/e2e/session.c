/*
 * e2e-session PROG [ARG...]: runs PROG in a session and process group of
 * its own, with SIGINT, SIGQUIT and SIGHUP at their default actions, as a
 * terminal's foreground job has them.
 *
 * The e2e harness starts xl migrate in the background of a shell without
 * job control, where POSIX has SIGINT and SIGQUIT ignored: a signal to the
 * process group would then test nothing (scenario pvh_signals).
 */
#include <signal.h>
#include <stdio.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    static const int sigs[] = { SIGINT, SIGQUIT, SIGHUP };
    sigset_t none;
    unsigned int i;

    if (argc < 2) {
        fprintf(stderr, "usage: e2e-session PROG [ARG...]\n");
        return 2;
    }
    for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
        signal(sigs[i], SIG_DFL);
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    if (setsid() < 0) {
        perror("e2e-session: setsid");
        return 1;
    }
    execvp(argv[1], argv + 1);
    perror("e2e-session: exec");
    return 127;
}
