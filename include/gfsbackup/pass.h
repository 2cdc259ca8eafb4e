/*
 * pass: where a repository passphrase comes from.
 *
 * A passphrase is never an argument: it is the first line of a file only
 * its owner can read, the first line a command prints, the environment,
 * or what is typed on the terminal without echo.  It is handed over in
 * secure memory (gfsb_crypto_secure_alloc: locked, out of core dumps,
 * wiped when freed with gfsb_crypto_secure_free).
 */
#ifndef GFSBACKUP_PASS_H
#define GFSBACKUP_PASS_H

#include <stddef.h>

#include <gfsbackup/util.h>

/* A passphrase line, its newline included, is shorter than this. */
#define GFSB_PASS_MAX 4096

/*
 * Where to look, in this order; the first source given is the only one
 * tried (a file that cannot be read is an error, not a reason to ask
 * the next).
 */
struct gfsb_pass_source {
	const char *file;    /* the first line of this file; NULL: none */
	const char *command; /* the first line `sh -c command` prints */
	int use_env;	     /* then GFSBACKUP_PASSWORD_FILE, then
				GFSBACKUP_PASSWORD_COMMAND (as file and
				command), then GFSBACKUP_PASSWORD itself */
	const char *prompt;  /* then ask on /dev/tty with this prompt, echo
				off; NULL: never ask */
	int confirm;	     /* ask twice: the two must be the same */
};

/*
 * gfsb_pass_read(ctx, src, out, len):
 * Obtain a passphrase from the first source src gives (see struct
 * gfsb_pass_source).  One trailing "\n" and then one "\r" are stripped
 * from a line read; an empty passphrase or one holding a NUL byte is
 * refused.  A file is refused when it is a regular file its group or
 * others may access (gfsb_sys_private); other kinds (a pipe, /dev/stdin)
 * are read as they are.  GFSBACKUP_PASSWORD, when used, is wiped and
 * removed from the environment so that no child process or /proc reader
 * sees it.  A command runs with /bin/sh -c, its standard output read to
 * its end; it must exit 0.
 *
 * On success *out is the NUL-terminated passphrase in secure memory (the
 * caller frees it with gfsb_crypto_secure_free) and *len its length.
 * Errors, with one line of detail in ctx:
 *   GFSB_ENOTFOUND  no source: none given, none in the environment, and
 *                   no prompt or no terminal to ask on (nothing was done);
 *   GFSB_EINVAL     the file cannot be opened, or others may access it
 *                   (nothing was read);
 *   GFSB_EIO        no passphrase came of it: reading failed, the
 *                   command could not run or failed (a non-zero exit, a
 *                   signal), or what was read is none (empty, a NUL
 *                   byte, a line of GFSB_PASS_MAX bytes or more, the two
 *                   typed differ);
 *   GFSB_ENOMEM.
 * Never GFSB_EAUTH: no key was tried, nothing says the passphrase is
 * wrong.
 * Not thread-safe when src->use_env: it reads and changes the
 * environment.
 */
gfsb_err gfsb_pass_read(struct gfsb_ctx *ctx,
    const struct gfsb_pass_source *src, char **out, size_t *len) GFSB_WUR;

#endif /* !GFSBACKUP_PASS_H */
