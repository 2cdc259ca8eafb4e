/*
 * The state directory, for the commands that keep state (verify, sync,
 * run).
 */
#ifndef GFSB_CLI_STATE_H
#define GFSB_CLI_STATE_H

#include <stddef.h>

struct cli;
struct gfsb_repo;
struct gfsb_backend;

/* The state directory itself (dir, else the default: see
 * gfsb_ops_state_base) into base; a bad one is a usage error.  Exit
 * status. */
int cli_state_base(struct cli *c, const char *dir, char *base, size_t len);

/* The ledger of the Object Lock dates set on the copy of r at be
 * (*out, malloc'd).  Exit status. */
int cli_ledger_file(struct cli *c, const char *dir, struct gfsb_repo *r,
    struct gfsb_backend *be, char **out);

#endif
