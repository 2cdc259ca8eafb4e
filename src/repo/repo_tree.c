/*
 * Trees: one blob per directory, listing its entries sorted by name.
 *
 * The encoding is canonical (sorted names, fixed field order, no optional
 * padding), so an unchanged directory encodes to the same bytes, gets the
 * same blob id and costs nothing to store again.  The decoder trusts
 * nothing: every length is checked against what remains, names must be
 * valid single path components in strictly ascending order (so no "..",
 * no "/", no duplicates for a symlink-then-file trick), a file's extents
 * must add up to its size, and a node's kind must agree with its mode.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <gfsbackup/repo.h>

#include "repo_internal.h"

#define TREE_VERSION 1
#define MAX_USERNAME 255
#define MAX_XATTR_NAME 255

void
gfsb_repo_tree_init(struct gfsb_tree *t)
{
	t->nodes = NULL;
	t->n = t->cap = 0;
}

void
gfsb_repo_node_fini(struct gfsb_node *n)
{
	size_t i;

	free(n->name);
	free(n->user);
	free(n->group);
	for (i = 0; i < n->nxattrs; i++) {
		free(n->xattrs[i].name);
		free(n->xattrs[i].value);
	}
	free(n->xattrs);
	free(n->extents);
	free(n->target);
	memset(n, 0, sizeof(*n));
}

void
gfsb_repo_tree_fini(struct gfsb_tree *t)
{
	size_t i;

	for (i = 0; i < t->n; i++)
		gfsb_repo_node_fini(&t->nodes[i]);
	free(t->nodes);
	gfsb_repo_tree_init(t);
}

gfsb_err
gfsb_repo_tree_add(struct gfsb_tree *t, struct gfsb_node *n)
{
	struct gfsb_node *grown;

	if (t->n == t->cap) {
		size_t ncap = t->cap ? 2 * t->cap : 16;

		if ((grown = realloc(t->nodes, ncap * sizeof(*grown))) == NULL)
			return GFSB_ENOMEM;
		t->nodes = grown;
		t->cap = ncap;
	}
	t->nodes[t->n++] = *n;
	memset(n, 0, sizeof(*n));
	return GFSB_OK;
}

static int
nodecmp(const void *a, const void *b)
{
	return strcmp(((const struct gfsb_node *)a)->name,
	    ((const struct gfsb_node *)b)->name);
}

void
gfsb_repo_tree_sort(struct gfsb_tree *t)
{
	if (t->n > 1)
		qsort(t->nodes, t->n, sizeof(t->nodes[0]), nodecmp);
}

const struct gfsb_node *
gfsb_repo_tree_find(const struct gfsb_tree *t, const char *name)
{
	struct gfsb_node key;

	if (t->n == 0)
		return NULL;
	memset(&key, 0, sizeof(key));
	key.name = (char *)(uintptr_t)name;
	return bsearch(&key, t->nodes, t->n, sizeof(t->nodes[0]), nodecmp);
}

/* A single path component we are willing to create. */
static int
name_ok(const char *s, size_t len)
{
	if (len == 0 || len > GFSB_TREE_MAX_NAME)
		return 0;
	if (memchr(s, '/', len) != NULL || memchr(s, '\0', len) != NULL)
		return 0;
	if ((len == 1 && s[0] == '.') || (len == 2 && s[0] == '.' &&
	    s[1] == '.'))
		return 0;
	return 1;
}

static unsigned
kind_fmt(enum gfsb_node_kind k)
{
	switch (k) {
	case GFSB_NODE_FILE: return S_IFREG;
	case GFSB_NODE_DIR: return S_IFDIR;
	case GFSB_NODE_SYMLINK: return S_IFLNK;
	case GFSB_NODE_FIFO: return S_IFIFO;
	case GFSB_NODE_CHARDEV: return S_IFCHR;
	case GFSB_NODE_BLOCKDEV: return S_IFBLK;
	case GFSB_NODE_SOCKET: return S_IFSOCK;
	}
	return 0;
}

static gfsb_err
put_str8(struct gfsb_buf *b, const char *s)
{
	size_t n = s ? strlen(s) : 0;
	gfsb_err e;

	if (n > MAX_USERNAME)
		n = MAX_USERNAME;
	if ((e = gfsb_buf_put_u8(b, (uint8_t)n)) != GFSB_OK)
		return e;
	return gfsb_buf_append(b, s, n);
}

static gfsb_err
node_encode(const struct gfsb_node *n, struct gfsb_buf *b)
{
	const struct gfsb_extent *x;
	size_t namelen = strlen(n->name), i, tl;
	uint64_t sum = 0;
	gfsb_err e;

	if (!name_ok(n->name, namelen) || kind_fmt(n->kind) == 0 ||
	    (n->mode & S_IFMT) != kind_fmt(n->kind) ||
	    n->mtime.nsec < 0 || n->mtime.nsec >= 1000000000 ||
	    n->ctime.nsec < 0 || n->ctime.nsec >= 1000000000 ||
	    n->nxattrs > UINT16_MAX)
		return GFSB_EINVAL;
	if ((e = gfsb_buf_put_u8(b, (uint8_t)n->kind)) != GFSB_OK ||
	    (e = gfsb_buf_put_u16(b, (uint16_t)namelen)) != GFSB_OK ||
	    (e = gfsb_buf_append(b, n->name, namelen)) != GFSB_OK ||
	    (e = gfsb_buf_put_u32(b, n->mode)) != GFSB_OK ||
	    (e = gfsb_buf_put_u32(b, n->uid)) != GFSB_OK ||
	    (e = gfsb_buf_put_u32(b, n->gid)) != GFSB_OK ||
	    (e = put_str8(b, n->user)) != GFSB_OK ||
	    (e = put_str8(b, n->group)) != GFSB_OK ||
	    (e = gfsb_buf_put_u64(b, (uint64_t)n->mtime.sec)) != GFSB_OK ||
	    (e = gfsb_buf_put_u32(b, (uint32_t)n->mtime.nsec)) != GFSB_OK ||
	    (e = gfsb_buf_put_u64(b, (uint64_t)n->ctime.sec)) != GFSB_OK ||
	    (e = gfsb_buf_put_u32(b, (uint32_t)n->ctime.nsec)) != GFSB_OK ||
	    (e = gfsb_buf_put_u64(b, n->inode)) != GFSB_OK ||
	    (e = gfsb_buf_put_u64(b, n->dev)) != GFSB_OK ||
	    (e = gfsb_buf_put_u64(b, n->rdev)) != GFSB_OK ||
	    (e = gfsb_buf_put_u64(b, n->size)) != GFSB_OK ||
	    (e = gfsb_buf_put_u32(b, n->nlink)) != GFSB_OK ||
	    (e = gfsb_buf_put_u16(b, (uint16_t)n->nxattrs)) != GFSB_OK)
		return e;
	for (i = 0; i < n->nxattrs; i++) {
		size_t nl = strlen(n->xattrs[i].name);

		if (nl == 0 || nl > MAX_XATTR_NAME ||
		    n->xattrs[i].len > GFSB_TREE_MAX_XATTR_VALUE)
			return GFSB_EINVAL;
		if ((e = gfsb_buf_put_u16(b, (uint16_t)nl)) != GFSB_OK ||
		    (e = gfsb_buf_append(b, n->xattrs[i].name, nl)) !=
		    GFSB_OK ||
		    (e = gfsb_buf_put_u32(b, n->xattrs[i].len)) != GFSB_OK ||
		    (e = gfsb_buf_append(b, n->xattrs[i].value,
		    n->xattrs[i].len)) != GFSB_OK)
			return e;
	}
	switch (n->kind) {
	case GFSB_NODE_FILE:
		if (n->nextents > UINT32_MAX)
			return GFSB_EINVAL;
		if ((e = gfsb_buf_put_u32(b, (uint32_t)n->nextents)) !=
		    GFSB_OK)
			return e;
		for (i = 0; i < n->nextents; i++) {
			x = &n->extents[i];
			sum += x->len;
			if ((e = gfsb_buf_put_u8(b, x->hole)) != GFSB_OK)
				return e;
			if (x->hole) {
				e = gfsb_buf_put_u64(b, x->len);
			} else {
				if (x->len == 0 || x->len > MAX_BLOB_RAW)
					return GFSB_EINVAL;
				if ((e = gfsb_buf_put_u32(b,
				    (uint32_t)x->len)) == GFSB_OK)
					e = gfsb_buf_append(b, x->id,
					    GFSB_ID_LEN);
			}
			if (e != GFSB_OK)
				return e;
		}
		if (sum != n->size)
			return GFSB_EINVAL;
		break;
	case GFSB_NODE_DIR:
		return gfsb_buf_append(b, n->subtree, GFSB_ID_LEN);
	case GFSB_NODE_SYMLINK:
		tl = n->target ? strlen(n->target) : 0;
		if (tl == 0 || tl > GFSB_TREE_MAX_TARGET)
			return GFSB_EINVAL;
		if ((e = gfsb_buf_put_u32(b, (uint32_t)tl)) != GFSB_OK)
			return e;
		return gfsb_buf_append(b, n->target, tl);
	default:
		break;
	}
	return GFSB_OK;
}

gfsb_err
gfsb_repo_tree_encode(const struct gfsb_tree *t, struct gfsb_buf *out)
{
	size_t i;
	gfsb_err e;

	if (t->n > UINT32_MAX)
		return GFSB_EINVAL;
	if ((e = gfsb_buf_put_u8(out, TREE_VERSION)) != GFSB_OK ||
	    (e = gfsb_buf_put_u32(out, (uint32_t)t->n)) != GFSB_OK)
		return e;
	for (i = 0; i < t->n; i++) {
		if (i > 0 && strcmp(t->nodes[i - 1].name, t->nodes[i].name) >=
		    0)
			return GFSB_EINVAL;
		if ((e = node_encode(&t->nodes[i], out)) != GFSB_OK)
			return e;
	}
	return GFSB_OK;
}

/* Copy len bytes as a NUL-terminated string; reject embedded NULs. */
static gfsb_err
dup_str(const uint8_t *p, size_t len, char **out)
{
	char *s;

	if (p == NULL)
		return GFSB_ECORRUPT;
	if (memchr(p, '\0', len) != NULL)
		return GFSB_ECORRUPT;
	if ((s = malloc(len + 1)) == NULL)
		return GFSB_ENOMEM;
	memcpy(s, p, len);
	s[len] = '\0';
	*out = s;
	return GFSB_OK;
}

static gfsb_err
get_str8(struct gfsb_rd *rd, char **out)
{
	size_t len = gfsb_rd_u8(rd);
	const uint8_t *p;

	*out = NULL;
	if (rd->bad)
		return GFSB_ECORRUPT;
	if (len == 0)
		return GFSB_OK;
	p = gfsb_rd_bytes(rd, len);
	return dup_str(p, len, out);
}

/* Smallest encodings, for checking counts before allocating. */
#define MIN_NODE_LEN 80
#define MIN_XATTR_LEN 7
#define MIN_EXTENT_LEN 9

static gfsb_err
node_decode(struct gfsb_rd *rd, struct gfsb_node *n)
{
	struct gfsb_extent *x;
	const uint8_t *p;
	size_t len, i;
	uint32_t cnt;
	uint64_t sum = 0;
	gfsb_err e;

	memset(n, 0, sizeof(*n));
	n->kind = (enum gfsb_node_kind)gfsb_rd_u8(rd);
	len = gfsb_rd_u16(rd);
	p = gfsb_rd_bytes(rd, len);
	if (rd->bad || kind_fmt(n->kind) == 0 ||
	    !name_ok((const char *)p, len))
		return GFSB_ECORRUPT;
	if ((e = dup_str(p, len, &n->name)) != GFSB_OK)
		return e;
	n->mode = gfsb_rd_u32(rd);
	n->uid = gfsb_rd_u32(rd);
	n->gid = gfsb_rd_u32(rd);
	if ((n->mode & S_IFMT) != kind_fmt(n->kind))
		return GFSB_ECORRUPT;
	if ((e = get_str8(rd, &n->user)) != GFSB_OK ||
	    (e = get_str8(rd, &n->group)) != GFSB_OK)
		return e;
	n->mtime.sec = (int64_t)gfsb_rd_u64(rd);
	n->mtime.nsec = (int32_t)gfsb_rd_u32(rd);
	n->ctime.sec = (int64_t)gfsb_rd_u64(rd);
	n->ctime.nsec = (int32_t)gfsb_rd_u32(rd);
	n->inode = gfsb_rd_u64(rd);
	n->dev = gfsb_rd_u64(rd);
	n->rdev = gfsb_rd_u64(rd);
	n->size = gfsb_rd_u64(rd);
	n->nlink = gfsb_rd_u32(rd);
	cnt = gfsb_rd_u16(rd);
	if (rd->bad || n->mtime.nsec < 0 || n->mtime.nsec >= 1000000000 ||
	    n->ctime.nsec < 0 || n->ctime.nsec >= 1000000000 ||
	    cnt > gfsb_rd_left(rd) / MIN_XATTR_LEN)
		return GFSB_ECORRUPT;
	if (cnt > 0 && (n->xattrs = calloc(cnt, sizeof(*n->xattrs))) == NULL)
		return GFSB_ENOMEM;
	for (i = 0; i < cnt; i++) {
		struct gfsb_xattr *xa = &n->xattrs[i];

		n->nxattrs = i + 1;
		len = gfsb_rd_u16(rd);
		p = gfsb_rd_bytes(rd, len);
		if (rd->bad || len == 0 || len > MAX_XATTR_NAME)
			return GFSB_ECORRUPT;
		if ((e = dup_str(p, len, &xa->name)) != GFSB_OK)
			return e;
		xa->len = gfsb_rd_u32(rd);
		if (rd->bad || xa->len > GFSB_TREE_MAX_XATTR_VALUE ||
		    (p = gfsb_rd_bytes(rd, xa->len)) == NULL)
			return GFSB_ECORRUPT;
		if ((xa->value = malloc(xa->len ? xa->len : 1)) == NULL)
			return GFSB_ENOMEM;
		memcpy(xa->value, p, xa->len);
	}
	switch (n->kind) {
	case GFSB_NODE_FILE:
		cnt = gfsb_rd_u32(rd);
		if (rd->bad || cnt > gfsb_rd_left(rd) / MIN_EXTENT_LEN)
			return GFSB_ECORRUPT;
		if (cnt > 0 &&
		    (n->extents = calloc(cnt, sizeof(*n->extents))) == NULL)
			return GFSB_ENOMEM;
		n->nextents = cnt;
		for (i = 0; i < cnt; i++) {
			x = &n->extents[i];
			x->hole = gfsb_rd_u8(rd);
			if (x->hole > 1)
				return GFSB_ECORRUPT;
			if (x->hole) {
				x->len = gfsb_rd_u64(rd);
			} else {
				x->len = gfsb_rd_u32(rd);
				p = gfsb_rd_bytes(rd, GFSB_ID_LEN);
				if (p == NULL || x->len == 0 ||
				    x->len > MAX_BLOB_RAW)
					return GFSB_ECORRUPT;
				memcpy(x->id, p, GFSB_ID_LEN);
			}
			if (rd->bad || x->len > UINT64_MAX - sum)
				return GFSB_ECORRUPT;
			sum += x->len;
		}
		if (sum != n->size)
			return GFSB_ECORRUPT;
		break;
	case GFSB_NODE_DIR:
		if ((p = gfsb_rd_bytes(rd, GFSB_ID_LEN)) == NULL)
			return GFSB_ECORRUPT;
		memcpy(n->subtree, p, GFSB_ID_LEN);
		break;
	case GFSB_NODE_SYMLINK:
		len = gfsb_rd_u32(rd);
		if (rd->bad || len == 0 || len > GFSB_TREE_MAX_TARGET)
			return GFSB_ECORRUPT;
		p = gfsb_rd_bytes(rd, len);
		return dup_str(p, len, &n->target);
	default:
		break;
	}
	return rd->bad ? GFSB_ECORRUPT : GFSB_OK;
}

gfsb_err
gfsb_repo_tree_decode(const uint8_t *p, size_t n, struct gfsb_tree *t)
{
	struct gfsb_node node;
	struct gfsb_rd rd;
	uint32_t cnt, i;
	gfsb_err e = GFSB_ECORRUPT;

	gfsb_repo_tree_init(t);
	gfsb_rd_init(&rd, p, n);
	if (gfsb_rd_u8(&rd) != TREE_VERSION)
		return GFSB_ECORRUPT;
	cnt = gfsb_rd_u32(&rd);
	if (rd.bad || cnt > gfsb_rd_left(&rd) / MIN_NODE_LEN)
		return GFSB_ECORRUPT;
	if (cnt > 0 && (t->nodes = calloc(cnt, sizeof(*t->nodes))) == NULL)
		return GFSB_ENOMEM;
	t->cap = cnt;
	for (i = 0; i < cnt; i++) {
		e = node_decode(&rd, &node);
		if (e != GFSB_OK) {
			gfsb_repo_node_fini(&node);
			goto fail;
		}
		t->nodes[t->n++] = node;
		if (i > 0 && strcmp(t->nodes[i - 1].name, t->nodes[i].name) >=
		    0) {
			e = GFSB_ECORRUPT;
			goto fail;
		}
	}
	if (gfsb_rd_left(&rd) != 0 || rd.bad) {
		e = GFSB_ECORRUPT;
		goto fail;
	}
	return GFSB_OK;
fail:
	gfsb_repo_tree_fini(t);
	return e;
}

gfsb_err
gfsb_repo_tree_load(struct gfsb_repo_io *io, const uint8_t id[GFSB_ID_LEN],
    struct gfsb_tree *t)
{
	struct gfsb_buf plain;
	char hex[GFSB_ID_HEX];
	gfsb_err e;

	gfsb_buf_init(&plain);
	gfsb_repo_tree_init(t);
	if ((e = gfsb_repo_blob_read(io, GFSB_BLOB_TREE, id, &plain)) ==
	    GFSB_OK) {
		e = gfsb_repo_tree_decode(plain.data, plain.len, t);
		if (e == GFSB_ECORRUPT) {
			gfsb_hex_encode(id, GFSB_ID_LEN, hex);
			gfsb_ctx_seterr(io->r->ctx, e,
			    "tree %.16s is malformed (bad entry, name or "
			    "length)", hex);
		}
	}
	gfsb_buf_fini(&plain);
	return e;
}
