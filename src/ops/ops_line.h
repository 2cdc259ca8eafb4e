/*
 * How the engines' *_lines functions tell a result: each line is built
 * in pieces of any length, then handed whole, without its newline, to
 * the caller's gfsb_ops_line_fn.  Once memory runs out no more lines are
 * handed on, and ops_line_fini says so.
 */
#ifndef GFSB_OPS_LINE_H
#define GFSB_OPS_LINE_H

#include <gfsbackup/ops.h>
#include <gfsbackup/util.h>

struct ops_lines {
	gfsb_ops_line_fn *fn;
	void *cookie;
	struct gfsb_buf b;	/* the line being built */
	gfsb_err err;		/* the first failure */
};

/* Start telling to fn with cookie (NULL: to no one). */
void ops_line_init(struct ops_lines *o, gfsb_ops_line_fn *fn,
    void *cookie);

/* Append to the line being built. */
void ops_line_add(struct ops_lines *o, const char *fmt, ...)
    GFSB_PRINTF(2, 3);

/* Hand the line built so far (maybe empty) to fn as kind; start anew. */
void ops_line_end(struct ops_lines *o, enum gfsb_ops_line kind);

/* A whole result line: ops_line_add, then ops_line_end. */
void ops_line_put(struct ops_lines *o, const char *fmt, ...)
    GFSB_PRINTF(2, 3);

/* Free what o holds; GFSB_ENOMEM if a line could not be built. */
gfsb_err ops_line_fini(struct ops_lines *o);

#endif
