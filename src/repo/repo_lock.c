/*
 * Locks: sealed objects under locks/ saying who works on the repository.
 *
 * Backups and restores take shared locks and may run side by side;
 * prune and forget take a prune lock, which shared ones do not conflict
 * with (prune deletes in two phases: docs/DESIGN.md), but another prune
 * lock or an exclusive one does; key changes and repairs take an
 * exclusive one.  A lock records when its holder took it ("started"),
 * which refreshing keeps: prune deletes nothing that a holder which
 * started before the deletion was decided may still use.
 *
 * Taking a lock is check, write, check again: two processes racing for
 * conflicting locks both see each other on the second check and back
 * off.  A lock is refreshed every five minutes by a background thread; one
 * older than 30 minutes, or whose process is gone on this very host, is
 * stale and does not block anyone (it is reported, and removed by
 * `unlock`).  "Gone" is told by the process's start time and the boot's
 * id, recorded in the lock: a process id alone is reused (the chaos
 * campaign's 315th round met a killed prune's lock whose pid had been
 * given to another process, and the next sync was refused as locked).
 *
 * A read-only view of the past (a backend opened "as of" a moment) cannot
 * change, so there is nothing to exclude and nowhere to write a lock: a
 * shared lock on it is granted without a word to the storage, and an
 * exclusive one, which announces changes, is refused.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include <gfsbackup/backend.h>
#include <gfsbackup/repo.h>

#include "repo_internal.h"

#define LOCK_STALE_SECONDS (30 * 60)
#define LOCK_REFRESH_SECONDS (5 * 60)

struct lockinfo {
	char name[GFSB_ID_HEX];
	struct gfsb_time time;
	int64_t started;	/* when taken; 0: not recorded */
	int exclusive;
	int prune;
	char hostname[256];
	char username[64];
	long pid;
	long long pid_start;	/* clock ticks after boot; 0: not recorded */
	char boot_id[40];	/* "": not recorded */
};

/* When process pid started (clock ticks after boot: /proc/PID/stat field
 * 22); 0 if unknown. */
static long long
proc_start(long pid)
{
	char path[64], buf[1024], *p;
	long long start = 0;
	size_t n;
	FILE *f;
	int i;

	snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
	if ((f = fopen(path, "re")) == NULL)
		return 0;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	/* The name (field 2) may hold spaces and parentheses: count from
	 * the last ')', which field 3 follows. */
	if ((p = strrchr(buf, ')')) == NULL)
		return 0;
	for (i = 3; i <= 22 && p != NULL; i++)
		p = strchr(p + 1, ' ');
	if (p != NULL)
		start = strtoll(p + 1, NULL, 10);
	return start;
}

/* This boot's id, or "" where the kernel does not say. */
static void
boot_id(char out[40])
{
	FILE *f = fopen("/proc/sys/kernel/random/boot_id", "re");
	size_t n = 0;

	if (f != NULL) {
		n = fread(out, 1, 39, f);
		fclose(f);
	}
	out[n] = '\0';
	out[strcspn(out, "\n")] = '\0';
}

struct gfsb_lock {
	struct gfsb_repo *r;
	int kind;		/* GFSB_REPO_LOCK_* */
	int64_t started;
	char name[GFSB_ID_HEX];
	pthread_t thread;
	int have_thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int stop;
	int view;	/* on a read-only view: nothing stored, nothing to do */
	struct gfsb_lock *next; /* r->locks */
};

/* Remove a lock object; failure only delays others until it goes stale. */
static void
lock_remove(struct gfsb_repo *r, const char *name)
{
	if (gfsb_backend_remove(r->be, GFSB_OBJ_LOCK, name) != GFSB_OK) {
		gfsb_ctx_log(r->ctx, GFSB_LOG_WARN,
		    "cannot remove lock %.8s: %s", name,
		    gfsb_ctx_errmsg(r->ctx));
	}
}

static gfsb_err
lock_write(struct gfsb_repo *r, const struct gfsb_lock *l,
    char name[GFSB_ID_HEX])
{
	char host[256], user[64], when[64], began[64], boot[40];
	struct gfsb_time now, start = { l->started, 0 };
	json_t *o;
	char *text = NULL;
	gfsb_err e = GFSB_ENOMEM;

	gfsb_time_now(&now);
	gfsb_time_format_rfc3339(&now, when, sizeof(when));
	gfsb_time_format_rfc3339(&start, began, sizeof(began));
	gfsb_sys_hostname(host, sizeof(host));
	gfsb_sys_username(user, sizeof(user));
	boot_id(boot);
	/* An older reader sees a prune lock as a shared one: its own
	 * prune, exclusive, still waits for ours. */
	o = json_pack("{s:s, s:s, s:b, s:b, s:s, s:s, s:I, s:I, s:I, s:I, "
	    "s:s}", "time", when, "started", began, "exclusive",
	    l->kind == GFSB_REPO_LOCK_EXCLUSIVE, "prune",
	    l->kind == GFSB_REPO_LOCK_PRUNE, "hostname", host, "username",
	    user, "pid", (json_int_t)getpid(), "uid", (json_int_t)getuid(),
	    "gid", (json_int_t)getgid(), "pid_start",
	    (json_int_t)proc_start(getpid()), "boot_id", boot);
	if (o != NULL && (text = json_dumps(o, JSON_COMPACT)) != NULL)
		e = repo_obj_store(r, GFSB_OBJ_LOCK, ENV_LOCK,
		    (const uint8_t *)text, strlen(text), name);
	free(text);
	json_decref(o);
	return e;
}

static gfsb_err
lock_read(struct gfsb_repo *r, const char *name, struct lockinfo *li)
{
	const char *when = NULL, *host = NULL, *user = "", *boot = "",
	    *began = NULL;
	json_int_t pid = 0, start = 0;
	struct gfsb_time t0;
	struct gfsb_buf plain;
	json_error_t jerr;
	json_t *o = NULL;
	int excl = 0, prune = 0;
	gfsb_err e;

	gfsb_buf_init(&plain);
	memset(li, 0, sizeof(*li));
	snprintf(li->name, sizeof(li->name), "%s", name);
	if ((e = repo_obj_load(r, GFSB_OBJ_LOCK, ENV_LOCK, name, MAX_LOCK,
	    &plain)) != GFSB_OK)
		goto out;
	e = GFSB_ECORRUPT;
	if ((o = json_loadb((const char *)plain.data, plain.len, 0, &jerr)) ==
	    NULL || json_unpack(o, "{s:s, s?s, s:b, s?b, s:s, s?s, s:I, s?I, "
	    "s?s}", "time", &when, "started", &began, "exclusive", &excl,
	    "prune", &prune, "hostname", &host, "username", &user, "pid",
	    &pid, "pid_start", &start, "boot_id", &boot) != 0 ||
	    gfsb_time_parse_rfc3339(when, &li->time) != GFSB_OK)
		goto out;
	/* Not recorded (an older writer) or unreadable: as old as can be. */
	if (began != NULL && gfsb_time_parse_rfc3339(began, &t0) == GFSB_OK)
		li->started = t0.sec;
	li->exclusive = excl;
	li->prune = prune;
	li->pid = (long)pid;
	li->pid_start = (long long)start;
	snprintf(li->boot_id, sizeof(li->boot_id), "%s", boot);
	snprintf(li->hostname, sizeof(li->hostname), "%s", host);
	snprintf(li->username, sizeof(li->username), "%s", user);
	e = GFSB_OK;
out:
	json_decref(o);
	gfsb_buf_fini(&plain);
	return e;
}

/* Is lock `name` held through r? */
static int
lock_mine(struct gfsb_repo *r, const char *name)
{
	struct gfsb_lock *l;
	int mine = 0;

	pthread_mutex_lock(&r->pack_lock);
	for (l = r->locks; l != NULL && !mine; l = l->next) {
		pthread_mutex_lock(&l->mu);
		mine = strcmp(l->name, name) == 0;
		pthread_mutex_unlock(&l->mu);
	}
	pthread_mutex_unlock(&r->pack_lock);
	return mine;
}

static int
lock_stale(const struct lockinfo *li)
{
	struct gfsb_time now;
	char host[256], boot[40];
	long long start;

	gfsb_time_now(&now);
	if (now.sec - li->time.sec > LOCK_STALE_SECONDS)
		return 1;
	gfsb_sys_hostname(host, sizeof(host));
	if (strcmp(host, li->hostname) != 0 || li->pid <= 0)
		return 0;
	/* This host: gone if the machine rebooted since, if no process has
	 * the id, or if the one that has it started at another moment. */
	boot_id(boot);
	if (li->boot_id[0] != '\0' && boot[0] != '\0' &&
	    strcmp(li->boot_id, boot) != 0)
		return 1;
	if (kill((pid_t)li->pid, 0) != 0 && errno == ESRCH)
		return 1;
	start = proc_start(li->pid);
	return li->pid_start != 0 && start != 0 && start != li->pid_start;
}

struct scan {
	struct gfsb_repo *r;
	const char *self;
	int kind;		/* the lock wanted: GFSB_REPO_LOCK_* */
	int remove_stale, remove_all, count_only;
	int oldest_only;	/* gfsb_repo_lock_oldest_other */
	int64_t oldest;
	size_t removed, live, stale;
	int conflict;
	struct lockinfo holder;
};

static gfsb_err
scan_one(void *cookie, const char *name, uint64_t size)
{
	struct scan *s = cookie;
	struct lockinfo li;
	char when[32];
	gfsb_err e;

	(void)size;
	if (s->self != NULL && strcmp(name, s->self) == 0)
		return GFSB_OK;
	if (s->remove_all) {
		if (gfsb_backend_remove(s->r->be, GFSB_OBJ_LOCK, name) ==
		    GFSB_OK)
			s->removed++;
		return GFSB_OK;
	}
	e = lock_read(s->r, name, &li);
	if (e == GFSB_ENOTFOUND) {
		gfsb_ctx_clearerr(s->r->ctx); /* released meanwhile */
		return GFSB_OK;
	}
	/* A lock that could not be read may be a live one: neither ignored
	 * nor removed, the scan fails with the storage's error. */
	if (e != GFSB_OK && !gfsb_err_is_damage(e))
		return e;
	if (e != GFSB_OK && s->remove_stale) {
		/* Unreadable (damaged or forged): it blocks nobody, and
		 * `unlock` is how it goes away. */
		gfsb_ctx_clearerr(s->r->ctx);
		if (gfsb_backend_remove(s->r->be, GFSB_OBJ_LOCK, name) ==
		    GFSB_OK)
			s->removed++;
		return GFSB_OK;
	}
	if (e != GFSB_OK && s->count_only) {
		gfsb_ctx_clearerr(s->r->ctx);
		s->stale++; /* unreadable: blocks nobody, worth removing */
		return GFSB_OK;
	}
	if (e != GFSB_OK) {
		gfsb_ctx_clearerr(s->r->ctx);
		gfsb_ctx_log(s->r->ctx, GFSB_LOG_WARN,
		    "lock %.16s is unreadable (%s); ignored", name,
		    gfsb_strerror(e));
		return GFSB_OK;
	}
	if (s->count_only) {
		if (lock_stale(&li))
			s->stale++;
		else
			s->live++;
		return GFSB_OK;
	}
	if (s->oldest_only) {
		if (!lock_stale(&li) && !lock_mine(s->r, name) &&
		    li.started < s->oldest)
			s->oldest = li.started;
		return GFSB_OK;
	}
	if (lock_stale(&li)) {
		gfsb_time_format_local(&li.time, when, sizeof(when));
		if (s->remove_stale) {
			if (gfsb_backend_remove(s->r->be, GFSB_OBJ_LOCK,
			    name) == GFSB_OK)
				s->removed++;
		} else if (s->self == NULL) {
			/* (Not again in the re-check after our own lock.) */
			gfsb_ctx_log(s->r->ctx, GFSB_LOG_WARN,
			    "stale lock %.8s of pid %ld on %s since %s is "
			    "ignored (remove it with `gfsbackup unlock`)",
			    name, li.pid, li.hostname, when);
		}
		return GFSB_OK;
	}
	if ((s->kind == GFSB_REPO_LOCK_EXCLUSIVE || li.exclusive ||
	    (s->kind == GFSB_REPO_LOCK_PRUNE && li.prune)) && !s->conflict) {
		s->conflict = 1;
		s->holder = li;
	}
	return GFSB_OK;
}

static gfsb_err
check_conflicts(struct gfsb_repo *r, int kind, const char *self)
{
	struct scan s;
	char when[32];
	struct gfsb_time now;
	gfsb_err e;

	memset(&s, 0, sizeof(s));
	s.r = r;
	s.self = self;
	s.kind = kind;
	if ((e = gfsb_backend_list(r->be, GFSB_OBJ_LOCK, scan_one, &s)) !=
	    GFSB_OK)
		return e;
	if (!s.conflict)
		return GFSB_OK;
	gfsb_time_now(&now);
	gfsb_time_format_local(&s.holder.time, when, sizeof(when));
	return gfsb_ctx_seterr(r->ctx, GFSB_ELOCKED,
	    "repository is locked %s by pid %ld of %s on %s since %s "
	    "(lock %.8s)", s.holder.exclusive ? "exclusively" :
	    s.holder.prune ? "for a prune" : "(shared)",
	    s.holder.pid, s.holder.username, s.holder.hostname, when,
	    s.holder.name);
}

static void *
refresher(void *arg)
{
	struct gfsb_lock *l = arg;
	struct timespec until;
	char fresh[GFSB_ID_HEX];

	pthread_mutex_lock(&l->mu);
	while (!l->stop) {
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_sec += LOCK_REFRESH_SECONDS;
		while (!l->stop && pthread_cond_timedwait(&l->cv, &l->mu,
		    &until) != ETIMEDOUT)
			;
		if (l->stop)
			break;
		pthread_mutex_unlock(&l->mu);
		/* New lock object first, then drop the old: never unlocked. */
		if (lock_write(l->r, l, fresh) == GFSB_OK) {
			pthread_mutex_lock(&l->mu);
			if (strcmp(fresh, l->name) != 0)
				lock_remove(l->r, l->name);
			snprintf(l->name, sizeof(l->name), "%s", fresh);
			pthread_mutex_unlock(&l->mu);
		} else {
			gfsb_ctx_log(l->r->ctx, GFSB_LOG_WARN,
			    "cannot refresh the repository lock");
		}
		pthread_mutex_lock(&l->mu);
	}
	pthread_mutex_unlock(&l->mu);
	return NULL;
}

/* The lock of a read-only view: shared only, and stored nowhere. */
static gfsb_err
view_lock(struct gfsb_repo *r, int kind, struct gfsb_lock **out)
{
	struct gfsb_time when;
	struct gfsb_lock *l;
	char at[32];

	if (kind != GFSB_REPO_LOCK_SHARED) {
		when.sec = gfsb_backend_as_of(r->be);
		when.nsec = 0;
		gfsb_time_format_local(&when, at, sizeof(at));
		return gfsb_ctx_seterr(r->ctx, GFSB_EDENIED, "%s as of %s is "
		    "a read-only view of the past: it cannot be changed",
		    gfsb_backend_location(r->be), at);
	}
	if ((l = calloc(1, sizeof(*l))) == NULL)
		return GFSB_ENOMEM;
	l->r = r;
	l->view = 1;
	*out = l;
	return GFSB_OK;
}

static gfsb_err
lock_once(struct gfsb_repo *r, int kind, struct gfsb_lock **out)
{
	struct gfsb_time now;
	struct gfsb_lock *l;
	gfsb_err e;

	if ((e = check_conflicts(r, kind, NULL)) != GFSB_OK)
		return e;
	if ((l = calloc(1, sizeof(*l))) == NULL)
		return GFSB_ENOMEM;
	l->r = r;
	l->kind = kind;
	gfsb_time_now(&now);
	l->started = now.sec;
	pthread_mutex_init(&l->mu, NULL);
	pthread_cond_init(&l->cv, NULL);
	if ((e = lock_write(r, l, l->name)) != GFSB_OK)
		goto fail;
	/* Someone may have locked between our check and our write. */
	if ((e = check_conflicts(r, kind, l->name)) != GFSB_OK) {
		lock_remove(r, l->name);
		goto fail;
	}
	if (pthread_create(&l->thread, NULL, refresher, l) == 0)
		l->have_thread = 1;
	pthread_mutex_lock(&r->pack_lock);
	l->next = r->locks;
	r->locks = l;
	pthread_mutex_unlock(&r->pack_lock);
	*out = l;
	return GFSB_OK;
fail:
	pthread_mutex_destroy(&l->mu);
	pthread_cond_destroy(&l->cv);
	free(l);
	return e;
}

void
gfsb_repo_set_lock_wait(struct gfsb_repo *r, int64_t seconds)
{
	r->lock_wait = seconds > 0 ? seconds : 0;
}

/* Sleep s seconds, a tenth at a time; 1 if the context was cancelled. */
static int
nap(struct gfsb_ctx *ctx, double s)
{
	struct timespec ts = { 0, 100000000L };
	double end = gfsb_monotonic_seconds() + s;

	while (gfsb_monotonic_seconds() < end) {
		if (gfsb_ctx_canceled(ctx))
			return 1;
		nanosleep(&ts, NULL);
	}
	return gfsb_ctx_canceled(ctx);
}

gfsb_err
gfsb_repo_lock(struct gfsb_repo *r, int kind, struct gfsb_lock **out)
{
	double end = gfsb_monotonic_seconds() + (double)r->lock_wait, left,
	    step = 1;
	char why[900];
	gfsb_err e;

	if (gfsb_backend_as_of(r->be) != 0)
		return view_lock(r, kind, out);
	for (;;) {
		if ((e = lock_once(r, kind, out)) != GFSB_ELOCKED ||
		    r->lock_wait == 0)
			return e;
		snprintf(why, sizeof(why), "%s", gfsb_ctx_errmsg(r->ctx));
		gfsb_ctx_clearerr(r->ctx);
		if ((left = end - gfsb_monotonic_seconds()) <= 0)
			return gfsb_ctx_seterr(r->ctx, GFSB_ELOCKED, "%s (still "
			    "locked after waiting %lld s)", why,
			    (long long)r->lock_wait);
		if (step > left)
			step = left;
		gfsb_ctx_log(r->ctx, GFSB_LOG_INFO, "%s; trying again in "
		    "%.0f s", why, step);
		if (nap(r->ctx, step))
			return gfsb_ctx_seterr(r->ctx, GFSB_ECANCELED,
			    "interrupted while waiting for the lock");
		step = step * 2 > 10 ? 10 : step * 2;
	}
}

void
gfsb_repo_unlock(struct gfsb_lock *l)
{
	struct gfsb_lock **pp;

	if (l == NULL)
		return;
	if (l->view) {
		free(l);
		return;
	}
	if (l->have_thread) {
		pthread_mutex_lock(&l->mu);
		l->stop = 1;
		pthread_cond_signal(&l->cv);
		pthread_mutex_unlock(&l->mu);
		pthread_join(l->thread, NULL);
	}
	pthread_mutex_lock(&l->r->pack_lock);
	for (pp = &l->r->locks; *pp != NULL; pp = &(*pp)->next)
		if (*pp == l) {
			*pp = l->next;
			break;
		}
	pthread_mutex_unlock(&l->r->pack_lock);
	lock_remove(l->r, l->name);
	pthread_mutex_destroy(&l->mu);
	pthread_cond_destroy(&l->cv);
	free(l);
}

gfsb_err
gfsb_repo_unlock_stale(struct gfsb_repo *r, int all, size_t *removed)
{
	struct scan s;
	gfsb_err e;

	memset(&s, 0, sizeof(s));
	s.r = r;
	s.remove_stale = 1;
	s.remove_all = all;
	e = gfsb_backend_list(r->be, GFSB_OBJ_LOCK, scan_one, &s);
	*removed = s.removed;
	return e;
}

gfsb_err
gfsb_repo_lock_count(struct gfsb_repo *r, size_t *live, size_t *stale)
{
	struct scan s;
	gfsb_err e;

	memset(&s, 0, sizeof(s));
	s.r = r;
	s.count_only = 1;
	if ((e = gfsb_backend_list(r->be, GFSB_OBJ_LOCK, scan_one, &s)) !=
	    GFSB_OK)
		return e;
	*live = s.live;
	*stale = s.stale;
	return GFSB_OK;
}

gfsb_err
gfsb_repo_lock_oldest_other(struct gfsb_repo *r, int64_t *started)
{
	struct scan s;
	gfsb_err e;

	memset(&s, 0, sizeof(s));
	s.r = r;
	s.oldest_only = 1;
	s.oldest = INT64_MAX;
	e = gfsb_backend_list(r->be, GFSB_OBJ_LOCK, scan_one, &s);
	*started = s.oldest;
	return e;
}
