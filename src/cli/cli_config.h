/*
 * The configuration file of the daily job (/etc/gfsbackup/gfsbackup.conf,
 * gfsbackup.conf(5)): INI, parsed with libinih, every error naming the
 * file, the line and the key.
 */
#ifndef GFSB_CLI_CONFIG_H
#define GFSB_CLI_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include <gfsbackup/backend.h>
#include <gfsbackup/gfs.h>
#include <gfsbackup/ops.h>

struct cli;

enum cli_prune_when {
	PRUNE_NEVER = 0,
	PRUNE_DAILY,
	PRUNE_WEEKLY
};

struct cli_config {
	char *path;

	/* [repository] */
	char *repo_url;
	char *password_file;
	char *cache_dir;
	char *state_dir;

	/* [offsite] (offsite_url NULL: none) */
	char *offsite_url;
	char *offsite_endpoint;
	char *offsite_region;
	char *offsite_credentials;
	char *offsite_cacert;
	enum gfsb_lock_mode offsite_lock;	/* a new mirror's mode */
	enum gfsb_sync_delete offsite_delete;
	int64_t lock_margin;			/* seconds */

	/* [backup] */
	char **paths;
	size_t npaths;
	char **excludes;
	size_t nexcludes;
	char *exclude_file;
	int one_file_system;
	char *host;
	char **tags;
	size_t ntags;

	/* [retention] (policy NULL: no retention stage) */
	struct gfsb_policy *policy;
	char *policy_file;
	enum cli_prune_when prune;

	/* [verify] */
	enum gfsb_verify_read read;
	uint32_t slice, slices;
	double percent;
	char *subset;
	uint64_t drill;			/* sample bytes; 0: no drill */
	unsigned drill_every;		/* days between drills */
	char *drill_scratch;		/* NULL: $TMPDIR or /var/tmp */

	/* [report] */
	char *smtp_url;
	char *mail_from;
	char **mail_to;
	size_t nmail_to;
	char *smtp_user;
	char *smtp_password_file;
	char *smtp_cacert;
	int send_failures_only;
	char *report_dir;
	unsigned report_keep_days;	/* 0: keep every saved report */
	int64_t rto;			/* recovery-time objective, s; 0: none */
};

/*
 * cli_config_load(c, path, cfg):
 * Read and check the configuration.  The file, and every passphrase,
 * password or credentials file it names, must belong to the user running
 * gfsbackup (or root) and be readable by nobody else.  On error, print one
 * line "gfsbackup: CMD: FILE:LINE: [section] key: what is wrong" and
 * return EXIT_USAGE (EXIT_FATAL when the file cannot be read); cfg is then
 * left empty.  Free with cli_config_fini.
 */
int cli_config_load(struct cli *c, const char *path, struct cli_config *cfg);
void cli_config_fini(struct cli_config *cfg);

#endif
