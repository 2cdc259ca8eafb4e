/*
 * The state directory's files, for the commands that keep state and
 * name them (sync).
 */
#ifndef GFSB_CLI_STATE_H
#define GFSB_CLI_STATE_H

struct cli;
struct gfsb_repo;
struct gfsb_backend;

/* The ledger of the Object Lock dates set on the copy of r at be
 * (*out, malloc'd).  Exit status. */
int cli_ledger_file(struct cli *c, const char *dir, struct gfsb_repo *r,
    struct gfsb_backend *be, char **out);

#endif
