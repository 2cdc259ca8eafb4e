/*
 * The daily job's configuration file (gfsbackup.conf(5)).  libinih does
 * the INI syntax; this file knows the sections and keys, checks each value
 * as it arrives (so the error can name its line), and refuses a file, or a
 * secret it names, that someone else could read or change.  The library
 * owns it so that the job engine, the verify command and the fuzz target
 * read the same settings the same way.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <ini.h>

#include <gfsbackup/ops.h>


struct cfgload {
	struct gfsb_config *cfg;
	struct gfsb_ctx *ctx;
	FILE *f;
	int line;	/* lines read so far: the handler's current line */
	int err_line;
	int failed;	/* 1: a usage error in msg; 2: out of memory */
	char msg[768];
	char seen[64][48]; /* "section.key" already given */
	size_t nseen;
	int inline_rules;
	int prune_given;
};

static char *
read_line(char *str, int num, void *stream)
{
	struct cfgload *s = stream;
	char *r = fgets(str, num, s->f);

	if (r != NULL)
		s->line++;
	return r;
}

static int
bad(struct cfgload *s, const char *section, const char *key,
    const char *fmt, ...) GFSB_PRINTF(4, 5);

/* Record the first error, with its line, section and key. */
static int
bad(struct cfgload *s, const char *section, const char *key,
    const char *fmt, ...)
{
	char what[512];
	va_list ap;

	if (s->failed)
		return 0;
	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	if (section[0] != '\0')
		snprintf(s->msg, sizeof(s->msg), "[%s] %s: %s", section, key,
		    what);
	else
		snprintf(s->msg, sizeof(s->msg), "%s: %s", key, what);
	s->err_line = s->line;
	s->failed = 1;
	return 0;
}

static int
oom(struct cfgload *s)
{
	s->failed = 2;
	return 0;
}

/*
 * A secret (or the config itself) must be a regular file of ours (or
 * root's) that nobody else can read or write.  Returns NULL or why not.
 */
static const char *
private_file(const char *path, char *why, size_t len)
{
	struct stat st;

	if (stat(path, &st) != 0) {
		snprintf(why, len, "cannot read %s: %s", path,
		    strerror(errno));
		return why;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(why, len, "%s is not a regular file", path);
		return why;
	}
	if (st.st_uid != geteuid() && st.st_uid != 0) {
		snprintf(why, len, "%s belongs to uid %u, not to the user "
		    "running gfsbackup", path, (unsigned)st.st_uid);
		return why;
	}
	if (gfsb_sys_private(path, st.st_mode, why, len) != 0)
		return why;
	return NULL;
}

static int
set_str(struct cfgload *s, char **dst, const char *value)
{
	if ((*dst = strdup(value)) == NULL)
		return oom(s);
	return 1;
}

static int
set_path(struct cfgload *s, const char *section, const char *key,
    char **dst, const char *value)
{
	if (value[0] != '/')
		return bad(s, section, key, "\"%s\" is not an absolute path",
		    value);
	return set_str(s, dst, value);
}

static int
set_secret(struct cfgload *s, const char *section, const char *key,
    char **dst, const char *value)
{
	char why[600];

	if (value[0] != '/')
		return bad(s, section, key, "\"%s\" is not an absolute path",
		    value);
	if (private_file(value, why, sizeof(why)) != NULL)
		return bad(s, section, key, "%s", why);
	return set_str(s, dst, value);
}

/* The next item of a list value at *pp (blanks, or seps, between
 * items; "..." around one that holds them, with \" and \\ inside) into a
 * malloc'd *item.  1, 0 at the end, or -1 with *why. */
static int
list_item(const char **pp, const char *seps, char **item, const char **why)
{
	const char *p = *pp;
	char *o;

	while (*p != '\0' && strchr(seps, *p) != NULL)
		p++;
	if (*p == '\0')
		return 0;
	if ((o = *item = malloc(strlen(p) + 1)) == NULL) {
		*why = NULL;
		return -1;
	}
	if (*p != '"') {
		while (*p != '\0' && strchr(seps, *p) == NULL)
			*o++ = *p++;
	} else {
		for (p++; *p != '"'; p++) {
			if (*p == '\0') {
				*why = "a quote is not closed";
				goto bad;
			}
			if (*p == '\\' && (p[1] == '"' || p[1] == '\\'))
				p++;
			*o++ = *p;
		}
		p++;
		if (*p != '\0' && strchr(seps, *p) == NULL) {
			*why = "text right after a closing quote";
			goto bad;
		}
		if (o == *item) {
			*why = "an empty item";
			goto bad;
		}
	}
	*o = '\0';
	*pp = p;
	return 1;
bad:
	free(*item);
	*item = NULL;
	return -1;
}

/* Split a list value into a malloc'd vector (list_item). */
static int
set_list(struct cfgload *s, const char *section, const char *key,
    char ***dst, size_t *n, const char *value, const char *seps, int paths)
{
	const char *p = value, *why;
	char *item, **nv;
	int r;

	while ((r = list_item(&p, seps, &item, &why)) == 1) {
		if (paths && item[0] != '/') {
			bad(s, section, key, "\"%s\" is not an absolute path",
			    item);
			free(item);
			return 0;
		}
		if ((nv = realloc(*dst, (*n + 1) * sizeof(*nv))) == NULL) {
			free(item);
			return oom(s);
		}
		*dst = nv;
		nv[(*n)++] = item;
	}
	if (r < 0)
		return why == NULL ? oom(s) : bad(s, section, key, "%s", why);
	if (*n == 0)
		return bad(s, section, key, "no value");
	return 1;
}

static int
set_bool(struct cfgload *s, const char *section, const char *key, int *dst,
    const char *value)
{
	if (strcmp(value, "yes") == 0 || strcmp(value, "true") == 0 ||
	    strcmp(value, "on") == 0 || strcmp(value, "1") == 0)
		*dst = 1;
	else if (strcmp(value, "no") == 0 || strcmp(value, "false") == 0 ||
	    strcmp(value, "off") == 0 || strcmp(value, "0") == 0)
		*dst = 0;
	else
		return bad(s, section, key, "\"%s\" is not yes or no", value);
	return 1;
}

static int
on_repository(struct cfgload *s, const char *k, const char *v)
{
	struct gfsb_config *c = s->cfg;

	if (strcmp(k, "url") == 0)
		return set_str(s, &c->repo_url, v);
	if (strcmp(k, "password-file") == 0)
		return set_secret(s, "repository", k, &c->password_file, v);
	if (strcmp(k, "cache-dir") == 0)
		return set_path(s, "repository", k, &c->cache_dir, v);
	if (strcmp(k, "state-dir") == 0)
		return set_path(s, "repository", k, &c->state_dir, v);
	if (strcmp(k, "retry-lock") == 0) {
		if (gfsb_gfs_margin_parse(v, &c->retry_lock) != GFSB_OK ||
		    c->retry_lock <= 0)
			return bad(s, "repository", k, "\"%s\" is not a "
			    "duration like 30s, 10m or 2h", v);
		return 1;
	}
	return bad(s, "repository", k, "unknown key (url, password-file, "
	    "cache-dir, state-dir, retry-lock)");
}

static int
on_offsite(struct cfgload *s, const char *k, const char *v)
{
	struct gfsb_config *c = s->cfg;

	if (strcmp(k, "url") == 0)
		return set_str(s, &c->offsite_url, v);
	if (strcmp(k, "endpoint") == 0) {
		if (strncmp(v, "http://", 7) != 0 &&
		    strncmp(v, "https://", 8) != 0)
			return bad(s, "offsite", k, "\"%s\" is not an "
			    "http(s):// URL", v);
		return set_str(s, &c->offsite_endpoint, v);
	}
	if (strcmp(k, "region") == 0)
		return set_str(s, &c->offsite_region, v);
	if (strcmp(k, "credentials-file") == 0)
		return set_secret(s, "offsite", k, &c->offsite_credentials, v);
	if (strcmp(k, "cacert") == 0)
		return set_path(s, "offsite", k, &c->offsite_cacert, v);
	if (strcmp(k, "object-lock") == 0) {
		if (gfsb_lock_mode_parse(v, &c->offsite_lock) != GFSB_OK)
			return bad(s, "offsite", k, "\"%s\" is not none, "
			    "governance or compliance", v);
		return 1;
	}
	if (strcmp(k, "delete") == 0) {
		if (strcmp(v, "never") == 0)
			c->offsite_delete = GFSB_SYNC_DELETE_NEVER;
		else if (strcmp(v, "after-lock") == 0)
			c->offsite_delete = GFSB_SYNC_DELETE_AFTER_LOCK;
		else
			return bad(s, "offsite", k, "\"%s\" is not never or "
			    "after-lock", v);
		return 1;
	}
	if (strcmp(k, "lock-margin") == 0) {
		if (gfsb_gfs_margin_parse(v, &c->lock_margin) != GFSB_OK)
			return bad(s, "offsite", k, "\"%s\" is not a margin "
			    "like 2d, 36h or 90s", v);
		return 1;
	}
	return bad(s, "offsite", k, "unknown key (url, endpoint, region, "
	    "credentials-file, cacert, object-lock, delete, lock-margin)");
}

static int
on_backup(struct cfgload *s, const char *k, const char *v)
{
	struct gfsb_config *c = s->cfg;

	if (strcmp(k, "paths") == 0)
		return set_list(s, "backup", k, &c->paths, &c->npaths, v,
		    " \t", 1);
	if (strcmp(k, "exclude") == 0)
		return set_list(s, "backup", k, &c->excludes, &c->nexcludes, v,
		    " \t", 0);
	if (strcmp(k, "exclude-file") == 0)
		return set_path(s, "backup", k, &c->exclude_file, v);
	if (strcmp(k, "one-file-system") == 0)
		return set_bool(s, "backup", k, &c->one_file_system, v);
	if (strcmp(k, "host") == 0)
		return set_str(s, &c->host, v);
	if (strcmp(k, "tags") == 0)
		return set_list(s, "backup", k, &c->tags, &c->ntags, v,
		    " \t,", 0);
	if (strcmp(k, "exclude-caches") == 0)
		return set_bool(s, "backup", k, &c->exclude_caches, v);
	if (strcmp(k, "exclude-if-present") == 0)
		return set_list(s, "backup", k, &c->exclude_if_present,
		    &c->nexclude_if_present, v, " \t", 0);
	if (strcmp(k, "exclude-larger-than") == 0) {
		if (gfsb_size_parse(v, &c->exclude_larger_than) != GFSB_OK ||
		    c->exclude_larger_than == 0)
			return bad(s, "backup", k, "give a size, e.g. 2GiB");
		return 1;
	}
	return bad(s, "backup", k, "unknown key (paths, exclude, "
	    "exclude-file, exclude-caches, exclude-if-present, "
	    "exclude-larger-than, one-file-system, host, tags)");
}

static int
on_retention(struct cfgload *s, const char *k, const char *v)
{
	struct gfsb_config *c = s->cfg;
	char where[64];

	if (strcmp(k, "prune") == 0) {
		s->prune_given = 1;
		if (strcmp(v, "daily") == 0)
			c->prune = GFSB_PRUNE_DAILY;
		else if (strcmp(v, "weekly") == 0)
			c->prune = GFSB_PRUNE_WEEKLY;
		else if (strcmp(v, "never") == 0)
			c->prune = GFSB_PRUNE_NEVER;
		else
			return bad(s, "retention", k, "\"%s\" is not daily, "
			    "weekly or never", v);
		return 1;
	}
	if (strcmp(k, "policy") == 0) {
		if (s->inline_rules)
			return bad(s, "retention", k, "give a policy file or "
			    "keep-* rules, not both");
		if (v[0] != '/')
			return bad(s, "retention", k, "\"%s\" is not an "
			    "absolute path", v);
		gfsb_ctx_clearerr(s->ctx);
		if (gfsb_gfs_policy_load(s->ctx, v, &c->policy) != GFSB_OK)
			return bad(s, "retention", k, "%s",
			    gfsb_ctx_errmsg(s->ctx));
		return set_str(s, &c->policy_file, v);
	}
	if (strncmp(k, "keep-", 5) == 0) {
		if (c->policy_file != NULL)
			return bad(s, "retention", k, "give a policy file or "
			    "keep-* rules, not both");
		if (c->policy == NULL &&
		    gfsb_gfs_policy_new(&c->policy) != GFSB_OK)
			return oom(s);
		s->inline_rules = 1;
		snprintf(where, sizeof(where), "@");
		gfsb_ctx_clearerr(s->ctx);
		if (gfsb_gfs_policy_set(s->ctx, c->policy, k, v, where) !=
		    GFSB_OK)
			return bad(s, "retention", k, "%s",
			    gfsb_ctx_errmsg(s->ctx) + 3); /* drop "@: " */
		return 1;
	}
	return bad(s, "retention", k, "unknown key (policy, keep-*, prune)");
}

/* A whole number of days from min to max. */
static int
set_days(struct cfgload *s, const char *sect, const char *k, unsigned *out,
    const char *v, unsigned min, unsigned max)
{
	char *end;
	unsigned long n;

	errno = 0;
	n = strtoul(v, &end, 10);
	if (v[0] < '0' || v[0] > '9' || *end != '\0' || errno != 0 ||
	    n < min || n > max)
		return bad(s, sect, k, "\"%s\" is not a number of days from "
		    "%u to %u", v, min, max);
	*out = (unsigned)n;
	return 1;
}

static int
on_verify(struct cfgload *s, const char *k, const char *v)
{
	struct gfsb_config *c = s->cfg;

	if (strcmp(k, "read-data-subset") == 0) {
		if (strcmp(v, "all") == 0) {
			c->read = GFSB_VERIFY_READ_ALL;
		} else if (strcmp(v, "none") == 0) {
			c->read = GFSB_VERIFY_READ_NONE;
		} else if (gfsb_ops_verify_parse_subset(v, &c->read, &c->slice,
		    &c->slices, &c->percent) != GFSB_OK) {
			return bad(s, "verify", k, "\"%s\" is not N/T, "
			    "rotate/T, P%%, all or none", v);
		}
		return set_str(s, &c->subset, v);
	}
	if (strcmp(k, "drill") == 0) {
		if (strcmp(v, "none") == 0) {
			c->drill = 0;
			return 1;
		}
		if (gfsb_size_parse(v, &c->drill) != GFSB_OK || c->drill == 0)
			return bad(s, "verify", k, "\"%s\" is not a size "
			    "(\"256MiB\", \"2GiB\") or none", v);
		return 1;
	}
	if (strcmp(k, "drill-every") == 0)
		return set_days(s, "verify", k, &c->drill_every, v, 1, 366);
	if (strcmp(k, "drill-scratch") == 0)
		return set_path(s, "verify", k, &c->drill_scratch, v);
	return bad(s, "verify", k, "unknown key (read-data-subset, drill, "
	    "drill-every, drill-scratch)");
}

static int
on_report(struct cfgload *s, const char *k, const char *v)
{
	struct gfsb_config *c = s->cfg;

	if (strcmp(k, "smtp-url") == 0) {
		if (strncmp(v, "smtp://", 7) != 0 &&
		    strncmp(v, "smtps://", 8) != 0)
			return bad(s, "report", k, "\"%s\" is not an smtp:// "
			    "or smtps:// URL", v);
		return set_str(s, &c->smtp_url, v);
	}
	if (strcmp(k, "from") == 0)
		return set_str(s, &c->mail_from, v);
	if (strcmp(k, "to") == 0)
		return set_list(s, "report", k, &c->mail_to, &c->nmail_to, v,
		    ", \t", 0);
	if (strcmp(k, "smtp-user") == 0)
		return set_str(s, &c->smtp_user, v);
	if (strcmp(k, "smtp-password-file") == 0)
		return set_secret(s, "report", k, &c->smtp_password_file, v);
	if (strcmp(k, "smtp-cacert") == 0)
		return set_path(s, "report", k, &c->smtp_cacert, v);
	if (strcmp(k, "send") == 0) {
		if (strcmp(v, "always") == 0)
			c->send_failures_only = 0;
		else if (strcmp(v, "failure") == 0)
			c->send_failures_only = 1;
		else
			return bad(s, "report", k, "\"%s\" is not always or "
			    "failure", v);
		return 1;
	}
	if (strcmp(k, "dir") == 0)
		return set_path(s, "report", k, &c->report_dir, v);
	if (strcmp(k, "keep-days") == 0)
		return set_days(s, "report", k, &c->report_keep_days, v, 0,
		    GFSB_CONFIG_KEEP_DAYS_MAX);
	if (strcmp(k, "recovery-time-objective") == 0) {
		if (gfsb_gfs_margin_parse(v, &c->rto) != GFSB_OK || c->rto <= 0)
			return bad(s, "report", k, "\"%s\" is not a duration "
			    "(\"4h\", \"1d12h\", \"90m\")", v);
		return 1;
	}
	return bad(s, "report", k, "unknown key (smtp-url, from, to, "
	    "smtp-user, smtp-password-file, smtp-cacert, send, dir, "
	    "keep-days, recovery-time-objective)");
}

static int
on_monitor(struct cfgload *s, const char *k, const char *v)
{
	struct gfsb_config *c = s->cfg;

	if (strcmp(k, "ping-url") == 0) {
		if (strncmp(v, "http://", 7) != 0 &&
		    strncmp(v, "https://", 8) != 0)
			return bad(s, "monitor", k, "\"%s\" is not an http:// "
			    "or https:// URL", v);
		return set_str(s, &c->ping_url, v);
	}
	if (strcmp(k, "metrics-file") == 0)
		return set_path(s, "monitor", k, &c->metrics_file, v);
	return bad(s, "monitor", k, "unknown key (ping-url, metrics-file)");
}

static int
on_databases(struct cfgload *s, const char *k, const char *v)
{
	struct gfsb_config *c = s->cfg;

	if (strcmp(k, "postgresql") == 0)
		return set_list(s, "databases", k, &c->pg_databases,
		    &c->npg_databases, v, " \t,", 0);
	if (strcmp(k, "postgresql-options") == 0)
		return set_list(s, "databases", k, &c->pg_options,
		    &c->npg_options, v, " \t", 0);
	if (strcmp(k, "mysql") == 0)
		return set_list(s, "databases", k, &c->mysql_databases,
		    &c->nmysql_databases, v, " \t,", 0);
	if (strcmp(k, "mysql-options") == 0)
		return set_list(s, "databases", k, &c->mysql_options,
		    &c->nmysql_options, v, " \t", 0);
	return bad(s, "databases", k, "unknown key (postgresql, "
	    "postgresql-options, mysql, mysql-options)");
}

static int
on_hooks(struct cfgload *s, const char *k, const char *v)
{
	struct gfsb_config *c = s->cfg;

	if (strcmp(k, "before") == 0)
		return set_str(s, &c->hook_before, v);
	if (strcmp(k, "after") == 0)
		return set_str(s, &c->hook_after, v);
	if (strcmp(k, "on-error") == 0)
		return set_str(s, &c->hook_on_error, v);
	if (strcmp(k, "timeout") == 0) {
		if (gfsb_gfs_margin_parse(v, &c->hook_timeout) != GFSB_OK ||
		    c->hook_timeout <= 0)
			return bad(s, "hooks", k, "\"%s\" is not a duration "
			    "(\"30s\", \"10m\", \"1h\")", v);
		return 1;
	}
	return bad(s, "hooks", k, "unknown key (before, after, on-error, "
	    "timeout)");
}

static int
on_key(void *user, const char *section, const char *name, const char *value)
{
	struct cfgload *s = user;
	char sk[48];
	size_t i;

	if (s->failed)
		return 0;
	snprintf(sk, sizeof(sk), "%s.%s", section, name);
	for (i = 0; i < s->nseen; i++)
		if (strcmp(s->seen[i], sk) == 0)
			return bad(s, section, name, "given twice");
	if (s->nseen < sizeof(s->seen) / sizeof(s->seen[0]))
		snprintf(s->seen[s->nseen++], sizeof(s->seen[0]), "%s", sk);
	if (section[0] == '\0')
		return bad(s, "", name, "outside of any section");
	if (value[0] == '\0')
		return bad(s, section, name, "no value");
	if (strcmp(section, "repository") == 0)
		return on_repository(s, name, value);
	if (strcmp(section, "offsite") == 0)
		return on_offsite(s, name, value);
	if (strcmp(section, "backup") == 0)
		return on_backup(s, name, value);
	if (strcmp(section, "retention") == 0)
		return on_retention(s, name, value);
	if (strcmp(section, "verify") == 0)
		return on_verify(s, name, value);
	if (strcmp(section, "report") == 0)
		return on_report(s, name, value);
	if (strcmp(section, "monitor") == 0)
		return on_monitor(s, name, value);
	if (strcmp(section, "hooks") == 0)
		return on_hooks(s, name, value);
	if (strcmp(section, "databases") == 0)
		return on_databases(s, name, value);
	return bad(s, section, name, "unknown section (repository, offsite, "
	    "backup, retention, verify, report, monitor, hooks, databases)");
}

/* Settings that need each other, checked once the whole file is read. */
static const char *
check_whole(struct gfsb_config *c, int prune_given)
{
	if (c->repo_url == NULL)
		return "[repository] url: missing";
	if (c->password_file == NULL)
		return "[repository] password-file: missing";
	if (c->npaths == 0)
		return "[backup] paths: missing";
	if (c->policy != NULL && gfsb_gfs_policy_empty(c->policy))
		return "[retention]: the policy keeps nothing";
	if (c->policy == NULL && prune_given && c->prune != GFSB_PRUNE_NEVER)
		return "[retention] prune: needs a policy or keep-* rules";
	if (c->policy == NULL)
		c->prune = GFSB_PRUNE_NEVER; /* no retention: nothing to prune */
	if ((c->offsite_endpoint || c->offsite_region ||
	    c->offsite_lock != GFSB_LOCK_NONE ||
	    c->offsite_credentials || c->offsite_cacert) &&
	    c->offsite_url == NULL)
		return "[offsite] url: missing";
	if (c->offsite_url != NULL && c->repo_url != NULL &&
	    strcmp(c->offsite_url, c->repo_url) == 0)
		return "[offsite] url: the same as [repository] url";
	if (c->smtp_url != NULL && (c->mail_from == NULL || c->nmail_to == 0))
		return "[report]: smtp-url needs from and to";
	if (c->smtp_url == NULL && (c->mail_from != NULL || c->nmail_to > 0 ||
	    c->smtp_user != NULL))
		return "[report] smtp-url: missing (from and to need it)";
	if ((c->smtp_user == NULL) != (c->smtp_password_file == NULL))
		return "[report]: give smtp-user and smtp-password-file "
		    "together";
	return NULL;
}

void
gfsb_config_fini(struct gfsb_config *c)
{
	size_t i;

	free(c->path);
	free(c->repo_url);
	free(c->password_file);
	free(c->cache_dir);
	free(c->state_dir);
	free(c->offsite_url);
	free(c->offsite_endpoint);
	free(c->offsite_region);
	free(c->offsite_credentials);
	free(c->offsite_cacert);
	for (i = 0; i < c->npaths; i++)
		free(c->paths[i]);
	free(c->paths);
	for (i = 0; i < c->nexcludes; i++)
		free(c->excludes[i]);
	free(c->excludes);
	free(c->exclude_file);
	free(c->host);
	for (i = 0; i < c->ntags; i++)
		free(c->tags[i]);
	free(c->tags);
	for (i = 0; i < c->nexclude_if_present; i++)
		free(c->exclude_if_present[i]);
	free(c->exclude_if_present);
	gfsb_gfs_policy_free(c->policy);
	free(c->policy_file);
	free(c->subset);
	free(c->drill_scratch);
	free(c->smtp_url);
	free(c->mail_from);
	for (i = 0; i < c->nmail_to; i++)
		free(c->mail_to[i]);
	free(c->mail_to);
	free(c->smtp_user);
	free(c->smtp_password_file);
	free(c->smtp_cacert);
	free(c->report_dir);
	free(c->ping_url);
	free(c->metrics_file);
	free(c->hook_before);
	free(c->hook_after);
	free(c->hook_on_error);
	gfsb_strv_free(c->pg_databases, c->npg_databases);
	gfsb_strv_free(c->pg_options, c->npg_options);
	gfsb_strv_free(c->mysql_databases, c->nmysql_databases);
	gfsb_strv_free(c->mysql_options, c->nmysql_options);
	memset(c, 0, sizeof(*c));
}

void
gfsb_config_init(struct gfsb_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->prune = GFSB_PRUNE_WEEKLY;
	cfg->report_keep_days = GFSB_CONFIG_KEEP_DAYS;
	cfg->drill_every = 7;
	cfg->lock_margin = GFSB_LOCK_MARGIN_DEFAULT;
	cfg->read = GFSB_VERIFY_READ_ROTATE;
	cfg->slices = 7;
}

gfsb_err
gfsb_config_load(struct gfsb_ctx *ctx, const char *path,
    struct gfsb_config *cfg)
{
	struct cfgload s;
	char why[600];
	const char *w;
	int fd, line;
	gfsb_err e = GFSB_EINVAL;

	gfsb_config_init(cfg);
	memset(&s, 0, sizeof(s));
	s.cfg = cfg;
	s.ctx = ctx;
	/* Opened without blocking: a FIFO named by mistake is refused
	 * below (not a regular file) instead of waiting for a writer. */
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)) < 0 ||
	    (s.f = fdopen(fd, "r")) == NULL) {
		/* A configuration error: nothing was done. */
		gfsb_ctx_seterr(ctx, e, "cannot read the configuration %s: %s",
		    path, strerror(errno));
		if (fd >= 0)
			close(fd);
		gfsb_config_fini(cfg);
		return e;
	}
	if ((w = private_file(path, why, sizeof(why))) != NULL ||
	    (cfg->path = strdup(path)) == NULL) {
		fclose(s.f);
		gfsb_config_fini(cfg);
		if (w == NULL)
			return GFSB_ENOMEM;
		return gfsb_ctx_seterr(ctx, e, "configuration refused: %s", w);
	}
	line = ini_parse_stream(read_line, &s, on_key, &s);
	fclose(s.f);
	gfsb_ctx_clearerr(ctx);
	if (s.failed == 2)
		e = GFSB_ENOMEM;
	else if (line < 0)
		e = gfsb_ctx_seterr(ctx, GFSB_EIO, "cannot read the "
		    "configuration %s", path);
	else if (s.failed && (line == 0 || s.err_line <= line))
		gfsb_ctx_seterr(ctx, e, "%s:%d: %s", path, s.err_line, s.msg);
	else if (line > 0)
		gfsb_ctx_seterr(ctx, e, "%s:%d: expected \"key = value\" or "
		    "\"[section]\"", path, line);
	else if ((w = check_whole(cfg, s.prune_given)) != NULL)
		gfsb_ctx_seterr(ctx, e, "%s: %s", path, w);
	else
		return GFSB_OK;
	gfsb_config_fini(cfg);
	return e;
}
