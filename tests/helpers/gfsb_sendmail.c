/*
 * gfsb_sendmail: send one message with gfsb_mail_send, for the mail
 * end-to-end test (tests/e2e/13-mail.sh).  Test-only: the program sends
 * reports itself.
 *
 *   gfsb_sendmail --url U --from A --to B [--to C ...]
 *       [--user U --password-file F] [--cacert F] [--timeout S]
 *       --subject S --text-file F --html-file F
 *
 * Exit status: 0 sent; 1 other failure; 2 GFSB_EINVAL; 3 GFSB_ENET;
 * 4 GFSB_EDENIED.  A failure prints one line to stderr:
 * "gfsb_sendmail: <gfsb_strerror>: <detail>"; warnings from the library
 * (a refused recipient) print as "gfsb_sendmail: warning: <line>".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gfsbackup/report.h>
#include <gfsbackup/util.h>

#define FILE_MAX (16u << 20)

/* Log callback: warnings and errors to stderr, the rest dropped. */
static void
on_log(void *cookie, enum gfsb_log_level level, const char *msg)
{
	(void)cookie;
	if (level <= GFSB_LOG_WARN)
		fprintf(stderr, "gfsb_sendmail: %s: %s\n",
		    level == GFSB_LOG_WARN ? "warning" : "error", msg);
}

/* Read a whole file (at most FILE_MAX bytes) as a NUL-terminated string;
 * NULL on failure (reported). */
static char *
slurp(const char *path)
{
	FILE *f;
	char *buf;
	size_t n;

	if ((f = fopen(path, "rb")) == NULL) {
		perror(path);
		return NULL;
	}
	if ((buf = malloc(FILE_MAX + 1)) == NULL) {
		fclose(f);
		return NULL;
	}
	n = fread(buf, 1, FILE_MAX, f);
	fclose(f);
	buf[n] = '\0';
	return buf;
}

/* Print usage and return the "bad options" status. */
static int
usage(void)
{
	fprintf(stderr,
	    "usage: gfsb_sendmail --url U --from A --to B "
	    "[--to C ...] [--user U --password-file F] [--cacert F] "
	    "[--timeout S] --subject S --text-file F --html-file F\n");
	return 2;
}

int
main(int argc, char **argv)
{
	struct gfsb_mail_opts o;
	struct gfsb_ctx *ctx = NULL;
	const char **to = NULL;
	const char *subject = NULL, *textf = NULL, *htmlf = NULL;
	char *text = NULL, *html = NULL;
	int i, rc = 1;
	gfsb_err e;

	memset(&o, 0, sizeof(o));
	if ((to = calloc((size_t)argc, sizeof(*to))) == NULL)
		return 1;
	for (i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (v == NULL) {
			rc = usage();
			goto out;
		}
		if (strcmp(a, "--url") == 0)
			o.url = v;
		else if (strcmp(a, "--from") == 0)
			o.from = v;
		else if (strcmp(a, "--to") == 0)
			to[o.nto++] = v;
		else if (strcmp(a, "--user") == 0)
			o.user = v;
		else if (strcmp(a, "--password-file") == 0)
			o.password_file = v;
		else if (strcmp(a, "--cacert") == 0)
			o.cacert = v;
		else if (strcmp(a, "--timeout") == 0)
			o.timeout_s = atol(v);
		else if (strcmp(a, "--subject") == 0)
			subject = v;
		else if (strcmp(a, "--text-file") == 0)
			textf = v;
		else if (strcmp(a, "--html-file") == 0)
			htmlf = v;
		else {
			rc = usage();
			goto out;
		}
		i++;
	}
	if (o.url == NULL || o.from == NULL || o.nto == 0 || subject == NULL ||
	    textf == NULL || htmlf == NULL) {
		rc = usage();
		goto out;
	}
	o.to = to;
	if ((text = slurp(textf)) == NULL || (html = slurp(htmlf)) == NULL)
		goto out;
	if (gfsb_ctx_new(&ctx) != GFSB_OK) {
		fprintf(stderr, "gfsb_sendmail: cannot create a context\n");
		goto out;
	}
	gfsb_ctx_set_log(ctx, on_log, NULL);
	e = gfsb_mail_send(ctx, &o, subject, text, html);
	if (e != GFSB_OK) {
		fprintf(stderr, "gfsb_sendmail: %s: %s\n", gfsb_strerror(e),
		    gfsb_ctx_errmsg(ctx));
		rc = e == GFSB_EINVAL    ? 2
		     : e == GFSB_ENET    ? 3
		     : e == GFSB_EDENIED ? 4
		                         : 1;
		goto out;
	}
	rc = 0;
out:
	gfsb_ctx_free(ctx);
	free(text);
	free(html);
	free(to);
	return rc;
}
