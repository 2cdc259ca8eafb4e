/*
 * The transfer engine: one thread drives a libcurl multi handle; any
 * thread may submit a transfer and wait for it.  At most `connections`
 * transfers run at once and connections are reused between them, so the
 * backup's pack writers, restore's readers and sync's copiers all share
 * one pool of connections to the server.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>

#include <gfsbackup/util.h>

#include "s3_internal.h"

/* Receive buffer for GETs (curl allows up to 10 MiB; its default 16 KiB
 * costs a recv and a poll per 16 KiB of a pack range). */
#define S3_RECV_BUFFER (256L << 10)

struct s3_engine {
	CURLM *multi;
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct s3_xfer *pending, *pending_tail;
	int active, stop;
	struct s3_engine_opts o;
	curl_off_t send_limit;
	/* Accounting (under mu): busy integrates `active` over time. */
	uint64_t requests, bytes_in, bytes_out;
	double busy, t_last, t_open;
};

/* Add the connection-seconds since the last change of `active`.  Under
 * e->mu, before `active` changes. */
static void
account_locked(struct s3_engine *e)
{
	double now = gfsb_monotonic_seconds();

	e->busy += e->active * (now - e->t_last);
	e->t_last = now;
}

static size_t
on_write(char *p, size_t size, size_t n, void *ud)
{
	struct s3_xfer *x = ud;
	size_t len = size * n;

	/* An error answer is not the object: keep it apart, for its code. */
	if (x->hstatus >= 300 || x->hstatus < 200) {
		if (x->errbody != NULL && x->errbody->len + len <= 64 << 10 &&
		    gfsb_buf_append(x->errbody, p, len) != GFSB_OK)
			return 0;
		return len;
	}
	if (x->dst != NULL) {
		if (len > x->dst_cap - x->dst_len) {
			x->overflow = 1;
			return 0; /* aborts the transfer */
		}
		memcpy(x->dst + x->dst_len, p, len);
		x->dst_len += len;
		return len;
	}
	if (x->resp == NULL)
		return len;
	if (x->resp->len + len > x->resp_cap) {
		x->overflow = 1;
		return 0;
	}
	if (gfsb_buf_append(x->resp, p, len) != GFSB_OK)
		return 0;
	return len;
}

static size_t
on_read(char *p, size_t size, size_t n, void *ud)
{
	struct s3_xfer *x = ud;
	size_t len = size * n, left = x->body_len - x->body_off;

	if (len > left)
		len = left;
	memcpy(p, x->body + x->body_off, len);
	x->body_off += len;
	return len;
}

static int
on_seek(void *ud, curl_off_t off, int origin)
{
	struct s3_xfer *x = ud;

	if (origin != SEEK_SET || off < 0 || (size_t)off > x->body_len)
		return CURL_SEEKFUNC_FAIL;
	x->body_off = (size_t)off;
	return CURL_SEEKFUNC_OK;
}

/* The value of a header line "Name: value\r\n" into out (trimmed);
 * left as it was if it does not fit. */
static void
header_value(const char *p, size_t len, size_t namelen, char *out,
    size_t olen)
{
	size_t v, e;

	for (v = namelen; v < len && (p[v] == ' ' || p[v] == '\t'); v++)
		;
	for (e = len; e > v && (p[e - 1] == '\r' || p[e - 1] == '\n' ||
	    p[e - 1] == ' ' || p[e - 1] == '\t'); e--)
		;
	if (e - v < olen) {
		memcpy(out, p + v, e - v);
		out[e - v] = '\0';
	}
}

static size_t
on_header(char *p, size_t size, size_t n, void *ud)
{
	struct s3_xfer *x = ud;
	size_t len = size * n, v, e;
	char date[64];

	if (len > 12 && strncmp(p, "HTTP/", 5) == 0) {
		/* "HTTP/1.1 200 OK": each status line (100 Continue first). */
		const char *sp = memchr(p, ' ', len);

		if (sp != NULL && (size_t)(sp - p) + 4 <= len)
			x->hstatus = strtol(sp + 1, NULL, 10);
	} else if (len > 5 && strncasecmp(p, "ETag:", 5) == 0) {
		for (v = 5; v < len && (p[v] == ' ' || p[v] == '"'); v++)
			;
		for (e = len; e > v && (p[e - 1] == '\r' || p[e - 1] == '\n'
		    || p[e - 1] == '"' || p[e - 1] == ' '); e--)
			;
		if (e - v < sizeof(x->etag)) {
			memcpy(x->etag, p + v, e - v);
			x->etag[e - v] = '\0';
		}
	} else if (len > 15 && strncasecmp(p, "Content-Length:", 15) == 0) {
		x->content_length = strtoull(p + 15, NULL, 10);
		x->have_length = 1;
	} else if (len > 14 && strncasecmp(p, "Last-Modified:", 14) == 0) {
		date[0] = '\0';
		header_value(p, len, 14, date, sizeof(date));
		x->last_modified = curl_getdate(date, NULL);
		if (x->last_modified < 0)
			x->last_modified = 0;
	} else if (len > 23 && strncasecmp(p, "x-amz-object-lock-mode:",
	    23) == 0) {
		header_value(p, len, 23, x->lock_mode, sizeof(x->lock_mode));
	} else if (len > 36 && strncasecmp(p,
	    "x-amz-object-lock-retain-until-date:", 36) == 0) {
		header_value(p, len, 36, x->lock_until, sizeof(x->lock_until));
	}
	return len;
}

static CURL *
make_easy(struct s3_engine *e, struct s3_xfer *x)
{
	CURL *c = curl_easy_init();

	if (c == NULL)
		return NULL;
	curl_easy_setopt(c, CURLOPT_URL, x->url);
	curl_easy_setopt(c, CURLOPT_PRIVATE, x);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, x->headers);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_write);
	if (strcmp(x->method, "GET") == 0)
		curl_easy_setopt(c, CURLOPT_BUFFERSIZE, S3_RECV_BUFFER);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, x);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, x);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, x->errbuf);
	curl_easy_setopt(c, CURLOPT_HTTP_VERSION, CURL_HTTP_VERSION_1_1);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
	if (e->o.cacert != NULL)
		curl_easy_setopt(c, CURLOPT_CAINFO, e->o.cacert);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 10L);
	/* A transfer that moves no byte for `timeout` seconds has failed. */
	curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, e->o.timeout);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
	if (strcmp(x->method, "HEAD") == 0) {
		curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
	} else if (strcmp(x->method, "PUT") == 0) {
		curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
		curl_easy_setopt(c, CURLOPT_READFUNCTION, on_read);
		curl_easy_setopt(c, CURLOPT_READDATA, x);
		curl_easy_setopt(c, CURLOPT_SEEKFUNCTION, on_seek);
		curl_easy_setopt(c, CURLOPT_SEEKDATA, x);
		curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE,
		    (curl_off_t)x->body_len);
		if (e->send_limit > 0)
			curl_easy_setopt(c, CURLOPT_MAX_SEND_SPEED_LARGE,
			    e->send_limit);
	} else if (strcmp(x->method, "POST") == 0) {
		curl_easy_setopt(c, CURLOPT_POST, 1L);
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, x->body);
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE,
		    (curl_off_t)x->body_len);
	} else if (strcmp(x->method, "GET") != 0) {
		curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, x->method);
	}
	return c;
}

static void
finish(struct s3_engine *e, CURL *c, CURLcode res)
{
	struct s3_xfer *x = NULL;
	curl_off_t down = 0, up = 0;

	curl_easy_getinfo(c, CURLINFO_PRIVATE, (char **)&x);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &x->status);
	x->curl_code = (int)res;
	curl_easy_getinfo(c, CURLINFO_SIZE_DOWNLOAD_T, &down);
	curl_easy_getinfo(c, CURLINFO_SIZE_UPLOAD_T, &up);
	curl_multi_remove_handle(e->multi, c);
	curl_easy_cleanup(c);
	pthread_mutex_lock(&e->mu);
	account_locked(e);
	e->requests++;
	e->bytes_in += down > 0 ? (uint64_t)down : 0;
	e->bytes_out += up > 0 ? (uint64_t)up : 0;
	x->done = 1;
	e->active--;
	pthread_cond_broadcast(&e->cv);
	pthread_mutex_unlock(&e->mu);
}

static void *
engine_main(void *arg)
{
	struct s3_engine *e = arg;
	struct s3_xfer *x;
	CURLMsg *msg;
	CURL *c;
	int running, left;

	for (;;) {
		pthread_mutex_lock(&e->mu);
		if (e->stop && e->active == 0 && e->pending == NULL) {
			pthread_mutex_unlock(&e->mu);
			break;
		}
		while (e->pending != NULL && e->active < e->o.connections) {
			x = e->pending;
			e->pending = x->next;
			if (e->pending == NULL)
				e->pending_tail = NULL;
			account_locked(e);
			e->active++;
			pthread_mutex_unlock(&e->mu);
			if ((c = make_easy(e, x)) == NULL ||
			    curl_multi_add_handle(e->multi, c) != CURLM_OK) {
				curl_easy_cleanup(c);
				pthread_mutex_lock(&e->mu);
				x->curl_code = CURLE_OUT_OF_MEMORY;
				x->done = 1;
				account_locked(e);
				e->active--;
				pthread_cond_broadcast(&e->cv);
				continue;
			}
			pthread_mutex_lock(&e->mu);
		}
		pthread_mutex_unlock(&e->mu);
		curl_multi_perform(e->multi, &running);
		while ((msg = curl_multi_info_read(e->multi, &left)) != NULL)
			if (msg->msg == CURLMSG_DONE)
				finish(e, msg->easy_handle, msg->data.result);
		curl_multi_poll(e->multi, NULL, 0, 1000, NULL);
	}
	return NULL;
}

int
s3_engine_new(const struct s3_engine_opts *o, struct s3_engine **out)
{
	struct s3_engine *e;

	if ((e = calloc(1, sizeof(*e))) == NULL)
		return -1;
	e->o = *o;
	if (e->o.connections < 1)
		e->o.connections = 1;
	if (e->o.timeout < 1)
		e->o.timeout = 60;
	if (o->limit_upload > 0) {
		e->send_limit = (curl_off_t)(o->limit_upload /
		    (uint64_t)e->o.connections);
		if (e->send_limit < 1)
			e->send_limit = 1;
	}
	if ((e->multi = curl_multi_init()) == NULL) {
		free(e);
		return -1;
	}
	curl_multi_setopt(e->multi, CURLMOPT_MAX_TOTAL_CONNECTIONS,
	    (long)e->o.connections);
	pthread_mutex_init(&e->mu, NULL);
	pthread_cond_init(&e->cv, NULL);
	e->t_open = e->t_last = gfsb_monotonic_seconds();
	if (pthread_create(&e->thread, NULL, engine_main, e) != 0) {
		curl_multi_cleanup(e->multi);
		free(e);
		return -1;
	}
	*out = e;
	return 0;
}

void
s3_engine_free(struct s3_engine *e)
{
	if (e == NULL)
		return;
	pthread_mutex_lock(&e->mu);
	e->stop = 1;
	pthread_mutex_unlock(&e->mu);
	curl_multi_wakeup(e->multi);
	pthread_join(e->thread, NULL);
	curl_multi_cleanup(e->multi);
	pthread_mutex_destroy(&e->mu);
	pthread_cond_destroy(&e->cv);
	free(e);
}

void
s3_engine_submit(struct s3_engine *e, struct s3_xfer *x)
{
	x->done = 0;
	x->next = NULL;
	x->status = 0;
	x->curl_code = 0;
	x->dst_len = 0;
	x->overflow = 0;
	x->body_off = 0;
	x->etag[0] = '\0';
	x->errbuf[0] = '\0';
	x->have_length = 0;
	x->content_length = 0;
	x->last_modified = 0;
	x->lock_mode[0] = '\0';
	x->lock_until[0] = '\0';
	x->hstatus = 0;
	pthread_mutex_lock(&e->mu);
	if (e->pending_tail != NULL)
		e->pending_tail->next = x;
	else
		e->pending = x;
	e->pending_tail = x;
	pthread_mutex_unlock(&e->mu);
	curl_multi_wakeup(e->multi);
}

void
s3_engine_io(struct s3_engine *e, struct gfsb_backend_io *out)
{
	pthread_mutex_lock(&e->mu);
	account_locked(e);
	out->requests = e->requests;
	out->bytes_in = e->bytes_in;
	out->bytes_out = e->bytes_out;
	out->busy = e->busy;
	out->seconds = e->t_last - e->t_open;
	out->connections = (unsigned)e->o.connections;
	pthread_mutex_unlock(&e->mu);
}

void
s3_engine_wait(struct s3_engine *e, struct s3_xfer *x)
{
	pthread_mutex_lock(&e->mu);
	while (!x->done)
		pthread_cond_wait(&e->cv, &e->mu);
	pthread_mutex_unlock(&e->mu);
}
