/*
 * Path patterns for --exclude and --include, and path cleaning.
 *
 * Patterns are matched component by component against absolute paths, as
 * restic does: a component pattern uses fnmatch(3) (`*`, `?`, `[...]`),
 * `**` matches any number of components, and a pattern that is not
 * anchored with a leading `/` is treated as if it began with `**`.
 */
#include <errno.h>
#include <fnmatch.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <gfsbackup/ops.h>

#define MAX_COMPONENTS 512

struct pattern {
	char **comp; /* components; "**" kept as is */
	size_t n;
};

struct gfsb_patterns {
	struct pattern *v;
	size_t n;
};

static void
pattern_fini(struct pattern *p)
{
	size_t i;

	for (i = 0; i < p->n; i++)
		free(p->comp[i]);
	free(p->comp);
}

void
gfsb_ops_patterns_free(struct gfsb_patterns *p)
{
	size_t i;

	if (p == NULL)
		return;
	for (i = 0; i < p->n; i++)
		pattern_fini(&p->v[i]);
	free(p->v);
	free(p);
}

/* Split s on '/', skipping empty components; prepend "**" if relative. */
static gfsb_err
pattern_compile(const char *s, struct pattern *p)
{
	const char *q = s, *end;
	size_t len;

	memset(p, 0, sizeof(*p));
	if ((p->comp = calloc(MAX_COMPONENTS + 1, sizeof(char *))) == NULL)
		return GFSB_ENOMEM;
	if (*s != '/') {
		if ((p->comp[p->n++] = strdup("**")) == NULL)
			return GFSB_ENOMEM;
	}
	while (*q != '\0') {
		while (*q == '/')
			q++;
		if (*q == '\0')
			break;
		end = strchr(q, '/');
		len = end ? (size_t)(end - q) : strlen(q);
		if (p->n == MAX_COMPONENTS)
			return GFSB_EINVAL;
		if ((p->comp[p->n] = strndup(q, len)) == NULL)
			return GFSB_ENOMEM;
		p->n++;
		q += len;
	}
	if (p->n == 0)
		return GFSB_EINVAL;
	return GFSB_OK;
}

gfsb_err
gfsb_ops_patterns_new(const char *const *pats, size_t n,
    struct gfsb_patterns **out)
{
	struct gfsb_patterns *p;
	size_t i;
	gfsb_err e;

	if ((p = calloc(1, sizeof(*p))) == NULL)
		return GFSB_ENOMEM;
	if (n > 0 && (p->v = calloc(n, sizeof(*p->v))) == NULL) {
		free(p);
		return GFSB_ENOMEM;
	}
	for (i = 0; i < n; i++) {
		if (pats[i][0] == '\0' || strspn(pats[i], "/") ==
		    strlen(pats[i])) {
			p->n = i;
			gfsb_ops_patterns_free(p);
			return GFSB_EINVAL;
		}
		e = pattern_compile(pats[i], &p->v[i]);
		p->n = i + 1;
		if (e != GFSB_OK) {
			gfsb_ops_patterns_free(p);
			return e;
		}
	}
	*out = p;
	return GFSB_OK;
}

/* Split a path into components (pointers into buf, which is modified). */
static size_t
split_path(char *buf, char **comp, size_t max)
{
	size_t n = 0;
	char *q = buf, *s;

	while (*q != '\0' && n < max) {
		while (*q == '/')
			q++;
		if (*q == '\0')
			break;
		s = q;
		while (*q != '\0' && *q != '/')
			q++;
		if (*q == '/')
			*q++ = '\0';
		comp[n++] = s;
	}
	return n;
}

/*
 * Does pattern pc[0..np) match path components sc[0..ns)?  With `prefix`,
 * report whether the path could be a proper prefix of a match (the path is
 * a directory some match lies under).
 */
static int
match_comps(char *const *pc, size_t np, char *const *sc, size_t ns,
    int prefix)
{
	size_t k;

	if (np == 0)
		return !prefix && ns == 0;
	if (strcmp(pc[0], "**") == 0) {
		if (prefix)
			return 1; /* "**" can swallow the rest of any path */
		for (k = 0; k <= ns; k++)
			if (match_comps(pc + 1, np - 1, sc + k, ns - k, 0))
				return 1;
		return 0;
	}
	if (ns == 0)
		return prefix; /* path exhausted; the pattern goes deeper */
	if (fnmatch(pc[0], sc[0], 0) != 0)
		return 0;
	return match_comps(pc + 1, np - 1, sc + 1, ns - 1, prefix);
}

static int
match_any(const struct gfsb_patterns *p, const char *path, int prefix)
{
	char buf[PATH_MAX], *comp[MAX_COMPONENTS];
	size_t ns, i;

	if (p == NULL || p->n == 0)
		return 0;
	if (strlen(path) >= sizeof(buf))
		return 0;
	strcpy(buf, path);
	ns = split_path(buf, comp, MAX_COMPONENTS);
	for (i = 0; i < p->n; i++)
		if (match_comps(p->v[i].comp, p->v[i].n, comp, ns, prefix))
			return 1;
	return 0;
}

int
gfsb_ops_patterns_match(const struct gfsb_patterns *p, const char *path)
{
	return match_any(p, path, 0);
}

int
gfsb_ops_patterns_may_match_below(const struct gfsb_patterns *p,
    const char *dir)
{
	return match_any(p, dir, 1);
}

/* One item: its line (or NUL-ended record) cleaned as fmt says; NULL to
 * skip it. */
static char *
list_item(char *line, size_t len, enum gfsb_list_format fmt)
{
	if (len > 0 && line[len - 1] == (fmt == GFSB_LIST_RAW ? '\0' : '\n'))
		line[--len] = '\0';
	if (fmt == GFSB_LIST_LINES) {
		while (len > 0 && (line[len - 1] == '\r' ||
		    line[len - 1] == ' ' || line[len - 1] == '\t'))
			line[--len] = '\0';
		if (line[0] == '#')
			return NULL;
	}
	return len == 0 ? NULL : line;
}

gfsb_err
gfsb_ops_list_read_file(struct gfsb_ctx *ctx, const char *path,
    enum gfsb_list_format fmt, const char *what, char ***out, size_t *n)
{
	char **v = NULL, **grown, *line = NULL, *item;
	size_t cap = 0, cnt = 0, lcap = 0;
	int std = strcmp(path, "-") == 0;
	ssize_t r;
	FILE *f;
	gfsb_err e = GFSB_OK;

	*out = NULL;
	*n = 0;
	if ((f = std ? stdin : fopen(path, "re")) == NULL)
		return gfsb_ctx_seterr(ctx, errno == ENOENT ? GFSB_ENOTFOUND :
		    GFSB_EIO, "cannot read %s %s: %s", what, path,
		    strerror(errno));
	while ((r = getdelim(&line, &lcap, fmt == GFSB_LIST_RAW ? '\0' : '\n',
	    f)) >= 0) {
		if ((item = list_item(line, (size_t)r, fmt)) == NULL)
			continue;
		if (cnt == cap) {
			cap = cap ? 2 * cap : 16;
			if ((grown = realloc(v, cap * sizeof(*v))) == NULL) {
				e = GFSB_ENOMEM;
				break;
			}
			v = grown;
		}
		if ((v[cnt] = strdup(item)) == NULL) {
			e = GFSB_ENOMEM;
			break;
		}
		cnt++;
	}
	if (e == GFSB_OK && ferror(f))
		e = gfsb_ctx_seterr(ctx, GFSB_EIO, "cannot read %s %s", what,
		    path);
	free(line);
	if (!std)
		fclose(f);
	if (e != GFSB_OK) {
		gfsb_strv_free(v, cnt);
		return e;
	}
	*out = v;
	*n = cnt;
	return GFSB_OK;
}

gfsb_err
gfsb_ops_list_gather(struct gfsb_ctx *ctx, const char *const *args,
    size_t nargs, const struct gfsb_list_files from[GFSB_LIST_RAW + 1],
    char ***out, size_t *n)
{
	static const char *const what[GFSB_LIST_RAW + 1] = {
		"--files-from list", "--files-from-verbatim list",
		"--files-from-raw list"
	};
	char **v = NULL, **listed;
	size_t cnt = 0, nlisted, i, k;
	gfsb_err e = GFSB_OK;
	int f;

	for (i = 0; i < nargs && e == GFSB_OK; i++)
		e = gfsb_strv_addf(&v, &cnt, "%s", args[i]);
	for (f = 0; f <= GFSB_LIST_RAW && e == GFSB_OK; f++) {
		for (k = 0; k < from[f].n && e == GFSB_OK; k++) {
			if ((e = gfsb_ops_list_read_file(ctx, from[f].v[k],
			    (enum gfsb_list_format)f, what[f], &listed,
			    &nlisted)) != GFSB_OK)
				break;
			for (i = 0; i < nlisted && e == GFSB_OK; i++)
				e = gfsb_strv_addf(&v, &cnt, "%s", listed[i]);
			gfsb_strv_free(listed, nlisted);
		}
	}
	if (e == GFSB_OK && cnt == 0)
		e = gfsb_ctx_seterr(ctx, GFSB_EINVAL, "no paths to back up");
	if (e != GFSB_OK) {
		gfsb_strv_free(v, cnt);
		return e;
	}
	*out = v;
	*n = cnt;
	return GFSB_OK;
}

gfsb_err
gfsb_ops_patterns_read_file(struct gfsb_ctx *ctx, const char *path,
    char ***out, size_t *n)
{
	return gfsb_ops_list_read_file(ctx, path, GFSB_LIST_LINES,
	    "exclude file", out, n);
}

gfsb_err
gfsb_ops_path_clean(const char *path, char *out, size_t len)
{
	char buf[PATH_MAX * 2], *comp[MAX_COMPONENTS * 4];
	size_t ns, i, k = 0, o = 0;

	if (path[0] == '/') {
		if (strlen(path) >= sizeof(buf))
			return GFSB_EINVAL;
		strcpy(buf, path);
	} else {
		if (getcwd(buf, PATH_MAX) == NULL)
			return GFSB_EIO;
		if (strlen(buf) + 1 + strlen(path) >= sizeof(buf))
			return GFSB_EINVAL;
		strcat(buf, "/");
		strcat(buf, path);
	}
	ns = split_path(buf, comp, sizeof(comp) / sizeof(comp[0]));
	for (i = 0; i < ns; i++) {
		if (strcmp(comp[i], ".") == 0)
			continue;
		if (strcmp(comp[i], "..") == 0) {
			if (k > 0)
				k--;
			continue;
		}
		comp[k++] = comp[i];
	}
	if (k == 0) {
		if (len < 2)
			return GFSB_EINVAL;
		strcpy(out, "/");
		return GFSB_OK;
	}
	for (i = 0; i < k; i++) {
		size_t cl = strlen(comp[i]);

		if (o + 1 + cl + 1 > len)
			return GFSB_EINVAL;
		out[o++] = '/';
		memcpy(out + o, comp[i], cl);
		o += cl;
	}
	out[o] = '\0';
	return GFSB_OK;
}
