/*
 * gfsbackup verify: check the repository's structure, read a slice of its
 * data, say precisely what is damaged and what that breaks, and make the
 * morning report (saved, mailed).  Exit 0 when nothing is damaged (there
 * may be warnings), 1 when something is, or when the report could not be
 * delivered.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include <gfsbackup/gfs.h>
#include <gfsbackup/ops.h>
#include <gfsbackup/report.h>

#include "cli.h"
#include "cli_report.h"

static const char usage[] =
"usage: gfsbackup verify -r REPO [--read-data | --read-data-subset SUBSET]\n"
"                        [--json] [--time T] [--threads N] [--state-dir DIR]\n"
"                        [--policy FILE] [--no-lock] [--object-lock MODE]\n"
"                        [--lock-margin D] [--offsite REPO2]\n"
"                        [--drill SIZE [--drill-scratch DIR]]\n"
"                        [--recovery-time-objective D] [--report DIR]\n"
"                        [--mail --smtp-url URL --mail-from ADDR\n"
"                         --mail-to ADDR... [--smtp-user U\n"
"                         --smtp-password-file F] [--smtp-cacert F]\n"
"                         [--mail-on always|failure]] [--config FILE]\n"
"\n"
"Check that every key, index file, snapshot and tree opens, that every\n"
"blob a snapshot uses is indexed, and that every pack the index names is\n"
"stored with the right size.  With --read-data (or a subset), also read\n"
"packs whole from storage: SHA-256 against the name, every blob opened\n"
"and its id recomputed.  Damage is named with the snapshots and files it\n"
"breaks.  With a state file, changes to the history since the last\n"
"verification are named too: snapshots gone that the policy keeps, key\n"
"files added or removed, a changed config, new snapshots claiming to be\n"
"old.  Exit 0 when nothing is damaged or changed, 1 otherwise.  With\n"
"--as-of, the repository as it stood then is checked, with no state\n"
"and no lock.\n"
"\n"
"  --read-data                read every pack\n"
"  --read-data-subset SUBSET  N/T: the Nth of T slices; rotate/T: today's\n"
"                             slice (T consecutive days read every pack\n"
"                             once); P%: that share of packs at random\n"
"  --json                     print the result as JSON on stdout\n"
"  --time 'YYYY-MM-DD HH:MM:SS'  run as if at that local time (today's\n"
"                             slice, the state file, the report)\n"
"  --threads N                packs read at once (default 2; remote: 4)\n"
"  --state-dir DIR            where the dates packs were last read and the\n"
"                             nightly sizes are kept (default\n"
"                             ~/.local/state/gfsbackup)\n"
"  --no-state                 keep no state (coverage unknown)\n"
"  --policy FILE              retention policy: the report's GFS table, and\n"
"                             which snapshots gone since the last\n"
"                             verification the policy still keeps\n"
"  --no-lock                  take no lock (for a verifier with read-only\n"
"                             credentials)\n"
"  --object-lock MODE         the repository must be locked in MODE\n"
"                             (compliance, governance); with --policy, its\n"
"                             Object Lock dates are checked too\n"
"  --lock-margin D            the margin its dates were made with (2d)\n"
"  --offsite REPO2            report how far the offsite mirror is behind\n"
"  --drill SIZE               restore drill: restore about SIZE of the\n"
"                             newest snapshot from the offsite copy (else\n"
"                             from REPO) into a scratch directory, check\n"
"                             every file, remove it, and project the time\n"
"                             a full restore would take; exit 1 if a file\n"
"                             does not come back intact\n"
"  --drill-scratch DIR        where the scratch directory goes (default\n"
"                             $TMPDIR, else /var/tmp)\n"
"  --recovery-time-objective D  warn in the report when the projected full\n"
"                             restore takes longer than D (4h, 1d12h)\n"
"  --report DIR               save the report as DIR/report-TIME.{txt,html}\n"
"  --mail                     mail the report (then it is also saved, in\n"
"                             --report DIR or STATE-DIR/reports)\n"
"  --smtp-url URL             smtp://HOST[:PORT] (STARTTLS when offered)\n"
"                             or smtps://HOST[:PORT]\n"
"  --mail-from ADDR           sender\n"
"  --mail-to ADDR             recipient (repeat, or separate with commas)\n"
"  --smtp-user USER           log in as USER ...\n"
"  --smtp-password-file FILE  ... with the password in FILE (mode 0600)\n"
"  --smtp-cacert FILE         CA certificates for the server's TLS\n"
"  --mail-on always|failure   mail every report, or only those not OK\n"
"                             (default always)\n"
"  --config FILE              take the repository, passphrase file, state\n"
"                             and cache directories, policy, subset,\n"
"                             offsite copy and mail settings from the daily\n"
"                             job's configuration (options given here win)\n";

enum {
	O_READ = OPT_CMD_BASE, O_SUBSET, O_JSON, O_TIME, O_THREADS,
	O_STATEDIR, O_NOSTATE, O_POLICY, O_OFFSITE, O_REPORT, O_MAIL,
	O_SMTPURL, O_FROM, O_TO, O_SMTPUSER, O_SMTPPASS, O_SMTPCA, O_MAILON,
	O_CONFIG, O_NOLOCK, O_LOCK, O_MARGIN, O_DRILL, O_SCRATCH, O_RTO
};

struct verify_view {
	struct cli *c;
	double drawn;
};

static void
progress(void *cookie, const struct gfsb_verify_progress *p)
{
	struct verify_view *v = cookie;
	char line[160], b[32];
	unsigned s = (unsigned)p->seconds;

	if (p->seconds - v->drawn < 0.2 && p->done < p->total)
		return;
	v->drawn = p->seconds;
	if (strcmp(p->phase, "read") == 0) {
		gfsb_size_format(p->bytes, b, sizeof(b));
		snprintf(line, sizeof(line), "[%u:%02u] reading packs: %llu of "
		    "%llu, %s", s / 60, s % 60, (unsigned long long)p->done,
		    (unsigned long long)p->total, b);
	} else if (p->total > 0) {
		snprintf(line, sizeof(line), "[%u:%02u] checking %s: %llu of "
		    "%llu", s / 60, s % 60, p->phase,
		    (unsigned long long)p->done, (unsigned long long)p->total);
	} else {
		snprintf(line, sizeof(line), "[%u:%02u] checking %s", s / 60,
		    s % 60, p->phase);
	}
	cli_progress(v->c, line);
}

static int
is_clean(const struct gfsb_verify_result *res)
{
	return res->ndamage == 0 && res->broken_total == 0 &&
	    res->ntamper == 0;
}

static void
print_text(struct cli *c, const struct gfsb_verify_result *res)
{
	char b1[32], b2[32];
	size_t i;

	for (i = 0; i < res->nwarnings; i++)
		cli_msg(c, "warning: %s", res->warnings[i]);
	gfsb_size_format(res->pack_bytes, b1, sizeof(b1));
	printf("checked %zu keys, %zu index files, %zu snapshots, %zu trees, "
	    "%llu data blobs, %llu packs (%s)\n", res->keys, res->index_files,
	    res->snapshots, res->trees, (unsigned long long)res->data_blobs,
	    (unsigned long long)res->packs, b1);
	gfsb_size_format(res->bytes_read, b2, sizeof(b2));
	printf("read (%s): %llu packs, %s, %llu blobs in %.1f s",
	    res->mode, (unsigned long long)res->packs_read, b2,
	    (unsigned long long)res->blobs_read, res->seconds);
	if (res->seconds > 0 && res->bytes_read > 0)
		printf(" (%.1f MB/s)", (double)res->bytes_read / 1e6 /
		    res->seconds);
	printf("\n");
	if (res->have_state) {
		if (res->days_since_all_read >= 0)
			printf("coverage: every pack read in the last %lld "
			    "days\n", (long long)res->days_since_all_read);
		else
			printf("coverage: %llu of %llu packs not read yet\n",
			    (unsigned long long)res->never_read,
			    (unsigned long long)res->packs);
	}
	for (i = 0; i < res->ndamage; i++)
		printf("DAMAGED %s %.16s: %s\n", res->damage[i].kind,
		    res->damage[i].id, res->damage[i].why);
	for (i = 0; i < res->nbroken; i++)
		printf("BROKEN snapshot %.8s %s: %s\n", res->broken[i].snapshot,
		    res->broken[i].path, res->broken[i].why);
	if (res->broken_total > res->nbroken)
		printf("... and %llu more broken files\n",
		    (unsigned long long)(res->broken_total - res->nbroken));
	if (res->locks_checked > 0)
		printf("Object Lock: %llu dates read, %llu short of what the "
		    "policy needs\n", (unsigned long long)res->locks_checked,
		    (unsigned long long)res->locks_short);
	for (i = 0; i < res->ntamper; i++)
		printf("HISTORY CHANGED: %s\n", res->tamper[i]);
	if (res->ntamper > 0)
		printf("TAMPERING SUSPECTED: the repository's history changed "
		    "in %zu way%s since the last verification (above)\n",
		    res->ntamper, res->ntamper == 1 ? "" : "s");
	if (res->ndamage == 0 && res->broken_total == 0) {
		printf("no damage found\n");
	} else {
		printf("DAMAGE FOUND: %zu damaged objects break %llu files in "
		    "%zu snapshots\n", res->ndamage,
		    (unsigned long long)res->broken_total,
		    res->nbroken_snapshots);
		for (i = 0; gfsb_report_damage_advice[i] != NULL; i++)
			printf("%-7s%s\n", i == 0 ? "to do:" : "",
			    gfsb_report_damage_advice[i]);
	}
}

static int
print_json(const struct gfsb_verify_result *res, const struct gfsb_time *now)
{
	json_t *o, *a, *x;
	char when[40], *s;
	size_t i;
	int ok = 1;

	gfsb_time_format_rfc3339(now, when, sizeof(when));
	o = json_pack("{s:s, s:s, s:s, s:{s:I, s:I, s:I, s:I, s:I, s:I, s:I, "
	    "s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}, s:f}",
	    "status", res->ndamage > 0 || res->broken_total > 0 ? "damaged" :
	    res->ntamper > 0 ? "history-changed" : "ok",
	    "time", when, "mode", res->mode, "counts",
	    "keys", (json_int_t)res->keys,
	    "index_files", (json_int_t)res->index_files,
	    "snapshots", (json_int_t)res->snapshots,
	    "trees", (json_int_t)res->trees,
	    "data_blobs", (json_int_t)res->data_blobs,
	    "packs", (json_int_t)res->packs,
	    "pack_bytes", (json_int_t)res->pack_bytes,
	    "repo_bytes", (json_int_t)res->repo_bytes,
	    "packs_read", (json_int_t)res->packs_read,
	    "bytes_read", (json_int_t)res->bytes_read,
	    "blobs_read", (json_int_t)res->blobs_read,
	    "duplicates", (json_int_t)res->duplicates,
	    "orphaned_packs", (json_int_t)res->orphaned,
	    "stale_locks", (json_int_t)res->locks_stale,
	    "broken_files", (json_int_t)res->broken_total,
	    "seconds", res->seconds);
	if (o == NULL)
		return -1;
	if ((a = json_array()) == NULL || json_object_set_new(o, "damage", a))
		ok = 0;
	for (i = 0; ok && i < res->ndamage; i++)
		ok = (x = json_pack("{s:s, s:s, s:s}", "kind",
		    res->damage[i].kind, "id", res->damage[i].id, "why",
		    res->damage[i].why)) != NULL && !json_array_append_new(a, x);
	if (ok && ((a = json_array()) == NULL ||
	    json_object_set_new(o, "broken", a)))
		ok = 0;
	for (i = 0; ok && i < res->nbroken; i++)
		ok = (x = json_pack("{s:s, s:s, s:s}", "snapshot",
		    res->broken[i].snapshot, "path", res->broken[i].path, "why",
		    res->broken[i].why)) != NULL && !json_array_append_new(a, x);
	if (ok && ((a = json_array()) == NULL ||
	    json_object_set_new(o, "broken_snapshots", a)))
		ok = 0;
	for (i = 0; ok && i < res->nbroken_snapshots; i++)
		ok = !json_array_append_new(a,
		    json_string(res->broken_snapshots[i]));
	if (ok && ((a = json_array()) == NULL ||
	    json_object_set_new(o, "warnings", a)))
		ok = 0;
	for (i = 0; ok && i < res->nwarnings; i++)
		ok = !json_array_append_new(a, json_string(res->warnings[i]));
	if (ok && ((a = json_array()) == NULL ||
	    json_object_set_new(o, "history_changed", a)))
		ok = 0;
	for (i = 0; ok && i < res->ntamper; i++)
		ok = !json_array_append_new(a, json_string(res->tamper[i]));
	if (ok && ((a = json_array()) == NULL ||
	    json_object_set_new(o, "packs_read", a)))
		ok = 0;
	for (i = 0; ok && i < res->nread; i++)
		ok = !json_array_append_new(a, json_string(res->read[i]));
	if (ok && res->have_state)
		ok = !json_object_set_new(o, "coverage", json_pack("{s:I, s:I}",
		    "days_since_all_read", (json_int_t)res->days_since_all_read,
		    "never_read", (json_int_t)res->never_read));
	if (ok && (s = json_dumps(o, JSON_INDENT(2))) != NULL) {
		printf("%s\n", s);
		free(s);
	} else {
		ok = 0;
	}
	json_decref(o);
	return ok ? 0 : -1;
}

/* --mail-to takes one address or several separated by commas. */
static int
add_recipients(struct cli *c, const char ***to, size_t *nto, char *arg)
{
	char *p, *save = NULL;

	for (p = strtok_r(arg, ",", &save); p != NULL;
	    p = strtok_r(NULL, ",", &save)) {
		while (*p == ' ')
			p++;
		if (*p != '\0' && cli_strv_add(to, nto, p) != 0)
			return cli_fail(c, GFSB_ENOMEM);
	}
	return EXIT_OK;
}

/* What the command line, then --config, asked for. */
struct vargs {
	struct gfsb_verify_opts vo;
	struct cli_mail mail;
	struct gfsb_config cfg;
	const char *config, *state_dir, *policy, *offsite, *report_dir;
	const char **to;
	size_t nto;
	long threads;
	int json, no_state, want_mail, have_read, have_time, have_mailon;
	struct gfsb_drill_opts drill;	/* size 0: no drill */
	int64_t rto;
};

static const struct option opts[] = {
	CLI_GLOBAL_OPTIONS,
	{ "read-data", no_argument, NULL, O_READ },
	{ "read-data-subset", required_argument, NULL, O_SUBSET },
	{ "json", no_argument, NULL, O_JSON },
	{ "time", required_argument, NULL, O_TIME },
	{ "threads", required_argument, NULL, O_THREADS },
	{ "state-dir", required_argument, NULL, O_STATEDIR },
	{ "no-state", no_argument, NULL, O_NOSTATE },
	{ "policy", required_argument, NULL, O_POLICY },
	{ "offsite", required_argument, NULL, O_OFFSITE },
	{ "report", required_argument, NULL, O_REPORT },
	{ "mail", no_argument, NULL, O_MAIL },
	{ "smtp-url", required_argument, NULL, O_SMTPURL },
	{ "mail-from", required_argument, NULL, O_FROM },
	{ "mail-to", required_argument, NULL, O_TO },
	{ "smtp-user", required_argument, NULL, O_SMTPUSER },
	{ "smtp-password-file", required_argument, NULL, O_SMTPPASS },
	{ "smtp-cacert", required_argument, NULL, O_SMTPCA },
	{ "mail-on", required_argument, NULL, O_MAILON },
	{ "config", required_argument, NULL, O_CONFIG },
	{ "no-lock", no_argument, NULL, O_NOLOCK },
	{ "object-lock", required_argument, NULL, O_LOCK },
	{ "lock-margin", required_argument, NULL, O_MARGIN },
	{ "drill", required_argument, NULL, O_DRILL },
	{ "drill-scratch", required_argument, NULL, O_SCRATCH },
	{ "recovery-time-objective", required_argument, NULL, O_RTO },
	{ NULL, 0, NULL, 0 }
};

/* The restore drill's options (optarg is o's argument). */
static int
parse_drill(struct cli *c, int o, struct vargs *a)
{
	switch (o) {
	case O_DRILL:
		if (gfsb_size_parse(optarg, &a->drill.size) != GFSB_OK ||
		    a->drill.size == 0)
			return cli_usage_error(c, "invalid --drill %s: give a "
			    "size, e.g. 256MiB or 2GiB", optarg);
		break;
	case O_SCRATCH:
		a->drill.scratch = optarg;
		break;
	default:
		if (gfsb_gfs_margin_parse(optarg, &a->rto) != GFSB_OK ||
		    a->rto <= 0)
			return cli_usage_error(c, "invalid "
			    "--recovery-time-objective %s: give e.g. 4h, "
			    "1d12h, 90m", optarg);
		break;
	}
	return EXIT_OK;
}

static int
parse(struct cli *c, int argc, char **argv, struct vargs *a)
{
	struct gfsb_verify_opts *vo = &a->vo;
	int o, rc;

	while ((o = cli_getopt(c, argc, argv, CLI_GLOBAL_SHORT, opts)) != -1) {
		switch (o) {
		case O_READ:
		case O_SUBSET:
			if (a->have_read++)
				return cli_usage_error(c, "give --read-data or "
				    "--read-data-subset once");
			if (o == O_READ)
				vo->read = GFSB_VERIFY_READ_ALL;
			else if (gfsb_ops_verify_parse_subset(optarg,
			    &vo->read, &vo->slice, &vo->slices,
			    &vo->percent) != GFSB_OK)
				return cli_usage_error(c, "invalid "
				    "--read-data-subset %s: give N/T, "
				    "rotate/T or P%%", optarg);
			break;
		case O_JSON:
			a->json = 1;
			break;
		case O_TIME:
			if (gfsb_time_parse_local(optarg, &vo->now) != GFSB_OK)
				return cli_usage_error(c, "invalid --time %s: "
				    "give 'YYYY-MM-DD HH:MM:SS'", optarg);
			a->have_time = 1;
			break;
		case O_THREADS:
			if (cli_number(c, "--threads", optarg, 1,
			    GFSB_VERIFY_THREADS_MAX, &a->threads) != 0)
				return EXIT_USAGE;
			break;
		case O_STATEDIR:
			a->state_dir = optarg;
			break;
		case O_NOSTATE:
			a->no_state = 1;
			break;
		case O_POLICY:
			a->policy = optarg;
			break;
		case O_OFFSITE:
			a->offsite = optarg;
			break;
		case O_REPORT:
			a->report_dir = optarg;
			break;
		case O_MAIL:
			a->want_mail = 1;
			break;
		case O_SMTPURL:
			a->mail.url = optarg;
			break;
		case O_FROM:
			a->mail.from = optarg;
			break;
		case O_TO:
			if ((rc = add_recipients(c, &a->to, &a->nto,
			    optarg)) != EXIT_OK)
				return rc;
			break;
		case O_SMTPUSER:
			a->mail.user = optarg;
			break;
		case O_SMTPPASS:
			a->mail.password_file = optarg;
			break;
		case O_SMTPCA:
			a->mail.cacert = optarg;
			break;
		case O_CONFIG:
			a->config = optarg;
			break;
		case O_NOLOCK:
			vo->no_lock = 1;
			break;
		case O_LOCK:
			if ((rc = cli_lock_mode(c, optarg,
			    &vo->expect_lock)) != EXIT_OK)
				return rc;
			break;
		case O_MARGIN:
			if (gfsb_gfs_margin_parse(optarg, &vo->lock_margin) !=
			    GFSB_OK)
				return cli_usage_error(c, "invalid "
				    "--lock-margin %s: give e.g. 2d, 36h, 90s",
				    optarg);
			break;
		case O_DRILL:
		case O_SCRATCH:
		case O_RTO:
			if ((rc = parse_drill(c, o, a)) != EXIT_OK)
				return rc;
			break;
		case O_MAILON:
			a->have_mailon = 1;
			if (strcmp(optarg, "always") == 0)
				a->mail.failures_only = 0;
			else if (strcmp(optarg, "failure") == 0)
				a->mail.failures_only = 1;
			else
				return cli_usage_error(c, "invalid --mail-on "
				    "%s: give always or failure", optarg);
			break;
		default:
			return EXIT_USAGE;
		}
	}
	if (optind != argc)
		return cli_usage_error(c, "unexpected argument %s",
		    argv[optind]);
	return EXIT_OK;
}

/* The daily job's mail settings, under those given here. */
static int
config_mail(struct cli *c, struct vargs *a)
{
	const struct gfsb_config *cfg = &a->cfg;
	struct cli_mail *mail = &a->mail;

	mail->url = cfg->smtp_url;
	if (mail->from == NULL)
		mail->from = cfg->mail_from;
	if (a->nto == 0) {
		a->to = malloc((cfg->nmail_to + 1) * sizeof(*a->to));
		if (a->to == NULL)
			return cli_fail(c, GFSB_ENOMEM);
		for (; a->nto < cfg->nmail_to; a->nto++)
			a->to[a->nto] = cfg->mail_to[a->nto];
	}
	if (mail->user == NULL) {
		mail->user = cfg->smtp_user;
		mail->password_file = cfg->smtp_password_file;
	}
	if (mail->cacert == NULL)
		mail->cacert = cfg->smtp_cacert;
	if (!a->have_mailon)
		mail->failures_only = cfg->send_failures_only;
	return EXIT_OK;
}

/* --config under what was given here, then the combinations checked. */
static int
settle(struct cli *c, struct vargs *a)
{
	const struct cli_mail *mail = &a->mail;
	int rc;

	if (a->config != NULL) {
		if ((rc = cli_config_load(c, a->config, &a->cfg)) != EXIT_OK)
			return rc;
		if (c->repo == NULL)
			c->repo = a->cfg.repo_url;
		if (c->password_file == NULL)
			c->password_file = a->cfg.password_file;
		if (c->cache_dir == NULL)
			c->cache_dir = a->cfg.cache_dir;
		if (a->state_dir == NULL)
			a->state_dir = a->cfg.state_dir;
		if (c->retry_lock == 0)
			c->retry_lock = a->cfg.retry_lock;
		if (!a->have_read) {
			a->vo.read = a->cfg.read;
			a->vo.slice = a->cfg.slice;
			a->vo.slices = a->cfg.slices;
			a->vo.percent = a->cfg.percent;
		}
		if (a->report_dir == NULL)
			a->report_dir = a->cfg.report_dir;
		if (a->drill.scratch == NULL)
			a->drill.scratch = a->cfg.drill_scratch;
		if (a->rto == 0)
			a->rto = a->cfg.rto;
		if (a->want_mail && mail->url == NULL &&
		    (rc = config_mail(c, a)) != EXIT_OK)
			return rc;
	}
	if (a->want_mail && (mail->url == NULL || mail->from == NULL ||
	    a->nto == 0))
		return cli_usage_error(c, "--mail needs --smtp-url, "
		    "--mail-from and --mail-to");
	if (!a->want_mail && (mail->url != NULL || mail->from != NULL ||
	    a->nto > 0 || mail->user != NULL || mail->password_file != NULL))
		return cli_usage_error(c, "mail settings without --mail");
	if ((mail->user == NULL) != (mail->password_file == NULL))
		return cli_usage_error(c, "give both --smtp-user and "
		    "--smtp-password-file, or neither");
	if (a->no_state && a->state_dir != NULL)
		return cli_usage_error(c, "--no-state and --state-dir "
		    "conflict");
	if (c->as_of != 0) {
		/* The state follows the present repository (the library
		 * refuses it with a view of the past): the configuration's
		 * is left alone, one given here is a mistake. */
		if (a->state_dir != NULL && (a->config == NULL ||
		    a->state_dir != a->cfg.state_dir))
			return cli_usage_error(c, "--as-of keeps no state: "
			    "--state-dir does not apply");
		a->no_state = 1;
	}
	if (a->drill.size == 0 && a->drill.scratch != NULL &&
	    (a->config == NULL || a->drill.scratch != a->cfg.drill_scratch))
		return cli_usage_error(c, "--drill-scratch without --drill");
	if (a->drill.size > 0 && c->as_of != 0)
		return cli_usage_error(c, "--drill restores the newest snapshot: "
		    "it does not go with --as-of");
	a->mail.to = a->to;
	a->mail.nto = a->nto;
	if (!a->have_time)
		gfsb_time_now(&a->vo.now);
	return EXIT_OK;
}

/* The offsite copy asked for (here, else in the configuration), with
 * c->remote set for it; the caller puts saved back. */
static const char *
offsite_url(struct cli *c, const struct vargs *a,
    struct gfsb_backend_opts *saved)
{
	*saved = c->remote;
	if (a->offsite != NULL || a->cfg.offsite_url == NULL)
		return a->offsite;
	c->remote.s3_endpoint = a->cfg.offsite_endpoint;
	c->remote.s3_region = a->cfg.offsite_region;
	c->remote.s3_credentials_file = a->cfg.offsite_credentials;
	c->remote.cacert = a->cfg.offsite_cacert;
	return a->cfg.offsite_url;
}

static void
drill_print(const struct gfsb_drill_result *res, const char *from)
{
	char line[4400];

	gfsb_ops_drill_summary(res, from, line, sizeof(line));
	printf("drill: %s\n", line);
}

/*
 * The restore drill, from the offsite copy when there is one (else from
 * the repository verified), into the report when one is made.
 */
static void
drill(struct cli *c, struct vargs *a, struct gfsb_report *rep, int *rc)
{
	struct gfsb_backend_opts saved;
	struct gfsb_backend *be = NULL;
	struct gfsb_drill_result res;
	const char *url = offsite_url(c, a, &saved);
	char *record = NULL, why[1100];
	gfsb_err e = GFSB_OK;
	int r = EXIT_OK;

	if (url != NULL)
		r = cli_open_url(c, url, &be);
	c->remote = saved;
	if (r == EXIT_OK) {
		a->drill.no_lock = a->vo.no_lock;
		r = cli_drill(c, a->state_dir, be != NULL ? be : c->be,
		    &a->drill, &a->vo.now, &record, &res, why, sizeof(why));
		if ((r == EXIT_OK || res.failed > 0) && !c->quiet)
			drill_print(&res, gfsb_backend_location(be != NULL ?
			    be : c->be));
		if (r == EXIT_OK || res.failed > 0)
			e = gfsb_ops_report_drill(rep, c->ctx, record, 1,
			    (double)a->rto, 0);
		else
			e = gfsb_report_add_error(rep, "restore drill could "
			    "not run: %s", why);
		gfsb_ops_drill_result_fini(&res);
	}
	if (e != GFSB_OK)
		r = cli_fail(c, e);
	if (r != EXIT_OK && *rc == EXIT_OK)
		*rc = r;
	gfsb_backend_close(be);
	free(record);
}

/*
 * The report: filled from the repository and the verification (or why it
 * could not run, already in rep), with the offsite copy's lag, then saved
 * and mailed.  A mailed report is also kept: if the mail fails, it is
 * what is left.  A report that cannot be made sets *rc; one that cannot
 * be delivered sets it when nothing else did.
 */
static void
report(struct cli *c, struct vargs *a, const struct gfsb_verify_result *res,
    gfsb_err e, struct gfsb_report *rep, const struct gfsb_policy *pol,
    const char *state, int *rc)
{
	struct gfsb_backend_opts saved_remote;
	const char *offsite = a->offsite, *report_dir = a->report_dir;
	const char *sf = state, *slash;
	char *reports = NULL, *own = NULL;
	int r;

	if ((r = cli_report_fill_repo(c, rep, pol, &a->vo.now)) != EXIT_OK)
		goto fail;
	if (e == GFSB_OK) {
		char summary[512];
		enum gfsb_report_status st;

		st = gfsb_ops_report_verify_stage(res, summary,
		    sizeof(summary));
		if (gfsb_ops_report_verify(rep, res, &a->vo.now) != GFSB_OK ||
		    gfsb_report_add_stage(rep, "verify", st, "%s", summary) !=
		    GFSB_OK) {
			r = cli_fail(c, GFSB_ENOMEM);
			goto fail;
		}
	}
	offsite = offsite_url(c, a, &saved_remote);
	r = offsite != NULL ? cli_report_fill_offsite(c, rep, offsite) :
	    EXIT_OK;
	c->remote = saved_remote;
	if (r != EXIT_OK)
		goto fail;
	if (report_dir == NULL) {
		if (sf == NULL) {
			if ((r = cli_state_file(c, a->state_dir, &own)) !=
			    EXIT_OK)
				goto fail;
			sf = own;
		}
		slash = strrchr(sf, '/');
		if (asprintf(&reports, "%.*s/reports", (int)(slash - sf), sf) <
		    0)
			reports = NULL;
		free(own);
		if (reports == NULL) {
			r = cli_fail(c, GFSB_ENOMEM);
			goto fail;
		}
		report_dir = reports;
	}
	/* cfg.report_keep_days: the configuration's, else the default
	 * (gfsb_config_load sets it; a verify without --config did not). */
	r = cli_report_deliver(c, rep, a->want_mail ? &a->mail : NULL,
	    report_dir, a->config != NULL ? a->cfg.report_keep_days :
	    GFSB_CONFIG_KEEP_DAYS);
	free(reports);
	if (r != EXIT_OK && *rc == EXIT_OK)
		*rc = r;
	return;
fail:
	*rc = r;
}

int
cmd_verify(struct cli *c, int argc, char **argv)
{
	struct gfsb_verify_result res;
	struct gfsb_report rep;
	struct gfsb_policy *pol = NULL;
	struct verify_view view;
	struct vargs a;
	char *state = NULL;
	gfsb_err e;
	int rc;

	c->usage = usage;
	memset(&a, 0, sizeof(a));
	memset(&res, 0, sizeof(res));
	gfsb_report_init(&rep);
	if ((rc = parse(c, argc, argv, &a)) != EXIT_OK ||
	    (rc = settle(c, &a)) != EXIT_OK)
		goto out;
	if (a.policy == NULL && a.cfg.policy != NULL) {
		pol = a.cfg.policy; /* lent: freed with cfg */
		a.cfg.policy = NULL;
	} else if (a.policy != NULL && (e = gfsb_gfs_policy_load(c->ctx,
	    a.policy, &pol)) != GFSB_OK) {
		rc = cli_config_fail(c, e);
		goto out;
	}
	if ((rc = cli_open_repo(c)) != EXIT_OK)
		goto out;
	if (!a.no_state && (rc = cli_state_file(c, a.state_dir, &state)) !=
	    EXIT_OK)
		goto out;
	a.vo.state_file = state;
	a.vo.policy = pol;
	a.vo.threads = a.threads > 0 ? (unsigned)a.threads :
	    gfsb_backend_is_remote(c->be) ? (c->remote.connections > 0 ?
	    (unsigned)c->remote.connections : 4) : 2;
	memset(&view, 0, sizeof(view));
	view.c = c;
	view.drawn = -1;
	if (cli_tty(c) && !a.json) {
		a.vo.progress = progress;
		a.vo.progress_cookie = &view;
	}
	e = gfsb_ops_verify(c->r, &a.vo, &res);
	cli_progress(c, NULL);
	if (e != GFSB_OK) {
		rc = cli_fail(c, e);
		/* The report still goes out: a verification that could not
		 * run is exactly what the operators must hear about. */
		if (gfsb_report_add_stage(&rep, "verify", GFSB_REPORT_FAILED,
		    "could not run: %s", *gfsb_ctx_errmsg(c->ctx) ?
		    gfsb_ctx_errmsg(c->ctx) : gfsb_strerror(e)) != GFSB_OK ||
		    gfsb_report_add_error(&rep, "verification could not run: "
		    "%s", *gfsb_ctx_errmsg(c->ctx) ? gfsb_ctx_errmsg(c->ctx) :
		    gfsb_strerror(e)) != GFSB_OK)
			goto out;
		gfsb_ctx_clearerr(c->ctx);
	} else {
		if (a.json) {
			if (print_json(&res, &a.vo.now) != 0)
				rc = cli_fail(c, GFSB_ENOMEM);
		} else if (!c->quiet || !is_clean(&res)) {
			print_text(c, &res);
		}
		if (!is_clean(&res))
			rc = EXIT_FATAL;
	}
	if (a.drill.size > 0)
		drill(c, &a, &rep, &rc);
	if (a.want_mail || a.report_dir != NULL)
		report(c, &a, &res, e, &rep, pol, state, &rc);
out:
	gfsb_ops_verify_result_fini(&res);
	gfsb_report_fini(&rep);
	gfsb_gfs_policy_free(pol);
	if (a.config != NULL) {
		/* c's strings may point into cfg: forget them first. */
		cli_close(c);
		if (c->repo == a.cfg.repo_url)
			c->repo = NULL;
		if (c->password_file == a.cfg.password_file)
			c->password_file = NULL;
		if (c->cache_dir == a.cfg.cache_dir)
			c->cache_dir = NULL;
	}
	gfsb_config_fini(&a.cfg);
	free(state);
	free(a.to);
	return rc;
}
