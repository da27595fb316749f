/* `spoa-shadow compare-report DIR [--json]`: summarises the diff log in DIR
 * (its finished files, compare_record.h): records per route, mirror and
 * result, the most frequent differing JSON paths (generalized: indices as
 * [*]) and headers with an example each, the same for the records of noise
 * mirrors (the learned noise), and percentiles of the latency
 * difference (shadow minus primary). Text for people, --json for scripts.
 * The diff log holds the requests whose answers differed (and those without
 * an answer from the shadow): matches are counted by the metrics only. */
#ifndef SPOA_COMPARE_REPORT_H
#define SPOA_COMPARE_REPORT_H

#include <stdbool.h>
#include <stdio.h>

/* Entries of each "most frequent" list. */
#define COMPARE_REPORT_TOP 10

/* compare_report_run: reads every finished file of <dir> and writes the
 * summary to <out> (JSON when <json>). Returns 0 when every file was read
 * to its end, 1 when some file was truncated or corrupt (the records before
 * the problem are counted, the problem reported on <err>), 2 when <dir>
 * cannot be listed or a file cannot be read. */
int compare_report_run(const char *dir, bool json, FILE *out, FILE *err);

/* compare_report_main: the subcommand; argv[0] is "compare-report". Exit
 * status as compare_report_run, 2 for a usage error. */
int compare_report_main(int argc, char **argv);

#endif
