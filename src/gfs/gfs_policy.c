/*
 * Retention policies: the rules, their text form, and policy files.
 *
 * A policy file is `key = value` lines (libinih) with `#` or `;` comments
 * and no sections; the keys are the long names of restic's `forget` flags.
 * Every error names the file and line: an operator must be able to trust
 * that what is written is what is applied, so anything unknown or
 * ambiguous (a key given twice) is refused rather than guessed.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <ini.h>

#include <gfsbackup/gfs.h>

#define COUNT_MAX 1000000

static const char *const count_keys[GFSB_RULE_COUNT] = {
	"keep-last", "keep-hourly", "keep-daily", "keep-weekly",
	"keep-monthly", "keep-yearly"
};

static const char *const within_keys[GFSB_RULE_COUNT] = {
	"keep-within", "keep-within-hourly", "keep-within-daily",
	"keep-within-weekly", "keep-within-monthly", "keep-within-yearly"
};

gfsb_err
gfsb_gfs_policy_new(struct gfsb_policy **out)
{
	struct gfsb_policy *p;

	if ((p = calloc(1, sizeof(*p))) == NULL)
		return GFSB_ENOMEM;
	*out = p;
	return GFSB_OK;
}

void
gfsb_gfs_policy_free(struct gfsb_policy *p)
{
	size_t i, j;

	if (p == NULL)
		return;
	for (i = 0; i < p->nlists; i++) {
		for (j = 0; j < p->ntags[i]; j++)
			free(p->tags[i][j]);
		free(p->tags[i]);
	}
	free(p->tags);
	free(p->ntags);
	free(p);
}

static int
duration_zero(const struct gfsb_duration *d)
{
	return d->years == 0 && d->months == 0 && d->days == 0 &&
	    d->hours == 0;
}

int
gfsb_gfs_policy_empty(const struct gfsb_policy *p)
{
	int i;

	for (i = 0; i < GFSB_RULE_COUNT; i++)
		if (p->keep[i] > 0 || !duration_zero(&p->within[i]))
			return 0;
	return p->nlists == 0;
}

gfsb_err
gfsb_gfs_duration_parse(const char *s, struct gfsb_duration *d)
{
	const char *q = s;
	long v;
	char *end;

	memset(d, 0, sizeof(*d));
	if (*q == '\0')
		return GFSB_EINVAL;
	while (*q != '\0') {
		if (*q < '0' || *q > '9')
			return GFSB_EINVAL;
		errno = 0;
		v = strtol(q, &end, 10);
		if (errno != 0 || v > 100000)
			return GFSB_EINVAL;
		switch (*end) {
		case 'y': d->years += (int)v; break;
		case 'm': d->months += (int)v; break;
		case 'd': d->days += (int)v; break;
		case 'h': d->hours += (int)v; break;
		default: return GFSB_EINVAL;
		}
		q = end + 1;
	}
	return duration_zero(d) ? GFSB_EINVAL : GFSB_OK;
}

char *
gfsb_gfs_duration_format(const struct gfsb_duration *d, char *buf, size_t len)
{
	size_t o = 0;

	buf[0] = '\0';
	if (d->years)
		o += (size_t)snprintf(buf + o, len - o, "%dy", d->years);
	if (d->months && o < len)
		o += (size_t)snprintf(buf + o, len - o, "%dm", d->months);
	if (d->days && o < len)
		o += (size_t)snprintf(buf + o, len - o, "%dd", d->days);
	if (d->hours && o < len)
		snprintf(buf + o, len - o, "%dh", d->hours);
	return buf;
}

/* Split "a,b" into a tag list; spaces around tags are dropped. */
static gfsb_err
add_tag_list(struct gfsb_policy *p, const char *value)
{
	char **list = NULL, **grown, *copy, *tok, *save = NULL, *t, *e;
	char ***lists;
	size_t n = 0, *counts;

	if ((copy = strdup(value)) == NULL)
		return GFSB_ENOMEM;
	for (tok = strtok_r(copy, ",", &save); tok != NULL;
	    tok = strtok_r(NULL, ",", &save)) {
		for (t = tok; *t == ' ' || *t == '\t'; t++)
			;
		for (e = t + strlen(t); e > t && (e[-1] == ' ' ||
		    e[-1] == '\t'); e--)
			;
		*e = '\0';
		if (*t == '\0')
			continue;
		if ((grown = realloc(list, (n + 1) * sizeof(*list))) == NULL ||
		    (grown[n] = strdup(t)) == NULL) {
			list = grown ? grown : list;
			goto nomem;
		}
		list = grown;
		n++;
	}
	free(copy);
	copy = NULL;
	if (n == 0) {
		free(list);
		return GFSB_EINVAL;
	}
	if ((lists = realloc(p->tags, (p->nlists + 1) * sizeof(*lists))) ==
	    NULL)
		goto nomem;
	p->tags = lists;
	if ((counts = realloc(p->ntags, (p->nlists + 1) * sizeof(*counts))) ==
	    NULL)
		goto nomem;
	p->ntags = counts;
	p->tags[p->nlists] = list;
	p->ntags[p->nlists] = n;
	p->nlists++;
	return GFSB_OK;
nomem:
	free(copy);
	while (n > 0)
		free(list[--n]);
	free(list);
	return GFSB_ENOMEM;
}

gfsb_err
gfsb_gfs_policy_set(struct gfsb_ctx *ctx, struct gfsb_policy *p,
    const char *key, const char *value, const char *where)
{
	struct gfsb_duration d;
	char *end;
	long v;
	int i;
	gfsb_err e;

	for (i = 0; i < GFSB_RULE_COUNT; i++) {
		if (strcmp(key, count_keys[i]) != 0)
			continue;
		errno = 0;
		v = strtol(value, &end, 10);
		if (*value == '\0' || *end != '\0' || errno != 0)
			return gfsb_ctx_seterr(ctx, GFSB_EINVAL,
			    "%s: %s: \"%s\" is not a count", where, key, value);
		if (v < 0)
			return gfsb_ctx_seterr(ctx, GFSB_EINVAL,
			    "%s: %s: negative count %ld", where, key, v);
		if (v > COUNT_MAX)
			return gfsb_ctx_seterr(ctx, GFSB_EINVAL,
			    "%s: %s: count %ld is too large (at most %d)",
			    where, key, v, COUNT_MAX);
		if (p->keep[i] != 0)
			return gfsb_ctx_seterr(ctx, GFSB_EINVAL,
			    "%s: %s is given twice", where, key);
		p->keep[i] = (int)v;
		return GFSB_OK;
	}
	for (i = 0; i < GFSB_RULE_COUNT; i++) {
		if (strcmp(key, within_keys[i]) != 0)
			continue;
		if (gfsb_gfs_duration_parse(value, &d) != GFSB_OK)
			return gfsb_ctx_seterr(ctx, GFSB_EINVAL,
			    "%s: %s: malformed duration \"%s\" (write it "
			    "like 1y6m, 14d or 36h)", where, key, value);
		if (!duration_zero(&p->within[i]))
			return gfsb_ctx_seterr(ctx, GFSB_EINVAL,
			    "%s: %s is given twice", where, key);
		p->within[i] = d;
		return GFSB_OK;
	}
	if (strcmp(key, "keep-tag") == 0) {
		if ((e = add_tag_list(p, value)) == GFSB_EINVAL)
			return gfsb_ctx_seterr(ctx, e, "%s: keep-tag: no tag "
			    "given", where);
		return e;
	}
	return gfsb_ctx_seterr(ctx, GFSB_EINVAL, "%s: unknown key \"%s\"",
	    where, key);
}

char *
gfsb_gfs_policy_describe(const struct gfsb_policy *p, char *buf, size_t len)
{
	char d[64];
	size_t o = 0, i, j;

	buf[0] = '\0';
	for (i = 0; i < GFSB_RULE_COUNT && o < len; i++)
		if (p->keep[i] > 0)
			o += (size_t)snprintf(buf + o, len - o, "%s%s %d",
			    o ? ", " : "", count_keys[i], p->keep[i]);
	for (i = 0; i < GFSB_RULE_COUNT && o < len; i++)
		if (!duration_zero(&p->within[i]))
			o += (size_t)snprintf(buf + o, len - o, "%s%s %s",
			    o ? ", " : "", within_keys[i],
			    gfsb_gfs_duration_format(&p->within[i], d,
			    sizeof(d)));
	for (i = 0; i < p->nlists && o < len; i++) {
		o += (size_t)snprintf(buf + o, len - o, "%skeep-tag ",
		    o ? ", " : "");
		for (j = 0; j < p->ntags[i] && o < len; j++)
			o += (size_t)snprintf(buf + o, len - o, "%s%s",
			    j ? "," : "", p->tags[i][j]);
	}
	return buf;
}

struct loadstate {
	struct gfsb_ctx *ctx;
	struct gfsb_policy *p;
	FILE *f;
	int line;     /* lines read so far: the handler's current line */
	int err_line; /* line of the first rule error */
	gfsb_err err;
	char msg[512];
};

/* fgets, counting lines, so that rule errors know their line. */
static char *
read_line(char *str, int num, void *stream)
{
	struct loadstate *s = stream;
	char *r = fgets(str, num, s->f);

	if (r != NULL)
		s->line++;
	return r;
}

/* inih calls this per key; line numbers come back from ini_parse. */
static int
on_key(void *user, const char *section, const char *name, const char *value)
{
	struct loadstate *s = user;
	struct gfsb_ctx *quiet = NULL;
	gfsb_err e;

	if (s->err != GFSB_OK)
		return 0;
	s->err_line = s->line;
	if (section[0] != '\0') {
		s->err = GFSB_EINVAL;
		snprintf(s->msg, sizeof(s->msg), "sections ([%s]) are not "
		    "allowed in a policy file", section);
		return 0;
	}
	/* Collect the message without the location; it is added below. */
	if (gfsb_ctx_new(&quiet) != GFSB_OK) {
		s->err = GFSB_ENOMEM;
		return 0;
	}
	e = gfsb_gfs_policy_set(quiet, s->p, name, value, "@");
	if (e != GFSB_OK) {
		s->err = e;
		snprintf(s->msg, sizeof(s->msg), "%s",
		    gfsb_ctx_errmsg(quiet) + 3); /* drop "@: " */
	}
	gfsb_ctx_free(quiet);
	return e == GFSB_OK;
}

gfsb_err
gfsb_gfs_policy_load(struct gfsb_ctx *ctx, const char *path,
    struct gfsb_policy **out)
{
	struct loadstate s;
	struct stat st;
	FILE *f;
	int fd;
	int line;
	gfsb_err e;

	memset(&s, 0, sizeof(s));
	/* Only a regular file: /dev/zero or a FIFO named by a hostile or
	 * mistaken configuration would keep the parser reading (or open()
	 * waiting) forever; O_NONBLOCK lets a FIFO's open return. */
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)) < 0)
		return gfsb_ctx_seterr(ctx, errno == ENOENT ? GFSB_ENOTFOUND :
		    GFSB_EIO, "cannot read policy %s: %s", path,
		    strerror(errno));
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return gfsb_ctx_seterr(ctx, GFSB_EINVAL,
		    "policy %s is not a regular file", path);
	}
	if ((f = fdopen(fd, "r")) == NULL) {
		close(fd);
		return GFSB_ENOMEM;
	}
	if ((e = gfsb_gfs_policy_new(&s.p)) != GFSB_OK) {
		fclose(f);
		return e;
	}
	s.ctx = ctx;
	s.f = f;
	/* ini_parse_stream returns the first line inih could not parse, or
	 * where our handler refused a rule, whichever came first. */
	line = ini_parse_stream(read_line, &s, on_key, &s);
	fclose(f);
	if (line < 0) {
		e = gfsb_ctx_seterr(ctx, GFSB_EIO, "cannot read policy %s",
		    path);
	} else if (s.err != GFSB_OK && (line == 0 || s.err_line <= line)) {
		e = gfsb_ctx_seterr(ctx, s.err, "%s:%d: %s", path, s.err_line,
		    s.msg);
	} else if (line > 0) {
		e = gfsb_ctx_seterr(ctx, GFSB_EINVAL,
		    "%s:%d: expected \"key = value\"", path, line);
	} else if (gfsb_gfs_policy_empty(s.p)) {
		e = gfsb_ctx_seterr(ctx, GFSB_EINVAL,
		    "%s: the policy has no rule: it would keep nothing", path);
	} else {
		*out = s.p;
		return GFSB_OK;
	}
	gfsb_gfs_policy_free(s.p);
	return e;
}
