/*
 * A result told a line at a time (ops_line.h): the buffer behind the
 * engines' *_lines functions.  A line has no length limit: a path or a
 * reason is never cut short.  And how often a progress line is shown.
 */
#include <stdarg.h>
#include <stdio.h>

#include <gfsbackup/ops.h>
#include <gfsbackup/util.h>

#include "ops_line.h"

void
ops_line_init(struct ops_lines *o, gfsb_ops_line_fn *fn,
    void *cookie)
{
	o->fn = fn;
	o->cookie = cookie;
	gfsb_buf_init(&o->b);
	o->err = GFSB_OK;
}

static void
vadd(struct ops_lines *o, const char *fmt, va_list ap)
    GFSB_PRINTF(2, 0);

static void
vadd(struct ops_lines *o, const char *fmt, va_list ap)
{
	va_list aq;
	int n;

	if (o->err != GFSB_OK)
		return;
	va_copy(aq, ap);
	n = vsnprintf(NULL, 0, fmt, aq);
	va_end(aq);
	/* Room for the terminating NUL too, which the line keeps. */
	if (n < 0 || gfsb_buf_reserve(&o->b, (size_t)n + 1) != GFSB_OK) {
		o->err = GFSB_ENOMEM;
		return;
	}
	vsnprintf((char *)o->b.data + o->b.len, (size_t)n + 1, fmt, ap);
	o->b.len += (size_t)n;
}

void
ops_line_add(struct ops_lines *o, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vadd(o, fmt, ap);
	va_end(ap);
}

void
ops_line_end(struct ops_lines *o, enum gfsb_ops_line kind)
{
	if (o->err == GFSB_OK && gfsb_buf_reserve(&o->b, 1) != GFSB_OK)
		o->err = GFSB_ENOMEM;
	if (o->err != GFSB_OK)
		return;
	o->b.data[o->b.len] = '\0';
	if (o->fn != NULL)
		o->fn(o->cookie, kind, (const char *)o->b.data);
	o->b.len = 0;
}

void
ops_line_put(struct ops_lines *o, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vadd(o, fmt, ap);
	va_end(ap);
	ops_line_end(o, GFSB_OPS_LINE_RESULT);
}

gfsb_err
ops_line_fini(struct ops_lines *o)
{
	gfsb_buf_fini(&o->b);
	return o->err;
}

int
gfsb_ops_progress_due(double *last, double seconds, double every,
    int finished)
{
	if (!finished && seconds - *last < every)
		return 0;
	*last = seconds;
	return 1;
}
