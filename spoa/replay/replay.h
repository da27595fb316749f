/* `spoa-shadow replay`: sends the requests of a capture to a target at the
 * captured pacing (or a fixed rate) and prints a summary. */
#ifndef SPOA_REPLAY_H
#define SPOA_REPLAY_H

/* Exit statuses of replay_main(). */
#define REPLAY_EXIT_OK          0 /* every selected record was sent and answered (any HTTP status) */
#define REPLAY_EXIT_FAILED      1 /* a request failed: dropped for any reason, or not writable as HTTP/1.1 */
#define REPLAY_EXIT_USAGE       2 /* bad arguments, unresolvable target, unreadable input: nothing sent */
#define REPLAY_EXIT_DAMAGED     3 /* no request failed, but a capture file was damaged */
#define REPLAY_EXIT_INTERRUPTED 130 /* SIGINT or SIGTERM: stopped early (summary printed) */

/* replay_main: the subcommand; argv[0] is "replay". Prints the summary on
 * stdout and problems on stderr; returns one of the REPLAY_EXIT_* statuses. */
int replay_main(int argc, char **argv);

#endif
