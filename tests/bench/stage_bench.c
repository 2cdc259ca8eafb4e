/*
 * The backup pipeline's stages measured one by one, on one core, over the
 * files of a directory: what the whole pipeline's CPU time is compared
 * with (tests/bench/bench.sh prints both).
 *
 * Stages, each timed with the monotonic clock (the stages never wait: the
 * files are in the page cache and the packs go to the directory given):
 *   walk      every directory listed, every entry stat-ed; every file
 *             opened, its attributes listed, closed
 *   read      every file read in 256 KiB steps into one buffer, reused
 *             (page cache; the pipeline reads into pooled buffers too)
 *   chunk     FastCDC boundaries over every file (the repository defaults)
 *   id        keyed BLAKE2b-256 of every chunk, and the look-up that
 *             tells a chunk seen before
 *   compress  zstd of every new chunk at the default level (kept when it
 *             saves 1/32, as the repository does)
 *   seal      XChaCha20-Poly1305 of what is stored
 *   packhash  SHA-256 of what is stored (a pack's name)
 *   write     what is stored written in 16 MiB packs into --out DIR, each
 *             synced and removed
 *
 * A chunk seen before (a duplicate region of a disk image) costs its id
 * and nothing more, as in a backup: the stages are the work a backup of
 * the directory must do.  Each chunk goes through the stages in turn, as
 * in the pipeline, so a clock is read around every stage of every small
 * file: it is the vDSO's monotonic clock, 30 ns a reading here.  The
 * thread's CPU clock is a system call, 1.35 us in this VM; read that
 * often, it added a quarter of a second (5%) to the sum over the 15,000
 * files of the benchmark's data set.
 *
 * Usage: gfsb_stage_bench [--out DIR] [--level N] DIR
 * Prints one line per stage ("stage SECONDS MIB"), then "sum SECONDS".
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

#include <gfsbackup/chunker.h>
#include <gfsbackup/compress.h>
#include <gfsbackup/crypto.h>
#include <gfsbackup/util.h>

#include "ops/ops_internal.h"

#define READ_STEP (256U << 10)
#define PACK (16U << 20)

enum { S_WALK, S_READ, S_CHUNK, S_ID, S_COMP, S_SEAL, S_HASH, S_WRITE,
	S_N };
static const char *const stage_name[S_N] = { "walk", "read", "chunk", "id",
	"compress", "seal", "packhash", "write" };

static struct {
	double sec[S_N];
	unsigned long long bytes[S_N];
	struct gfsb_chunker *ck;
	struct gfsb_keys *keys;
	struct gfsb_compress *z;
	uint8_t *file, *comp, *sealed, *pack;
	uint8_t step[READ_STEP];
	size_t filecap, compcap, sealcap, packlen;
	const char *outdir;
	unsigned long npacks;
	struct ops_idset seen;	/* every id stored */
} B;

static void
die(const char *what)
{
	fprintf(stderr, "gfsb_stage_bench: %s: %s\n", what, strerror(errno));
	exit(1);
}

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void *
grow(void *p, size_t *cap, size_t need)
{
	if (need <= *cap)
		return p;
	if ((p = realloc(p, need)) == NULL)
		die("out of memory");
	*cap = need;
	return p;
}

static int
walk_one(const char *path, const struct stat *st, int flag, struct FTW *f)
{
	char list[4096];
	int fd;

	(void)f;
	if (flag != FTW_F || !S_ISREG(st->st_mode))
		return 0;
	if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) < 0)
		return 0;
	(void)flistxattr(fd, list, sizeof(list));
	close(fd);
	B.bytes[S_WALK]++;
	return 0;
}

static void
write_pack(void)
{
	char path[4096];
	double t0 = now();
	size_t off = 0;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "%s/stage-bench-pack.%lu", B.outdir,
	    B.npacks++);
	if ((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
	    0600)) < 0)
		die(path);
	while (off < B.packlen) {
		if ((n = write(fd, B.pack + off, B.packlen - off)) < 0)
			die("write");
		off += (size_t)n;
	}
	if (fsync(fd) != 0 || close(fd) != 0 || unlink(path) != 0)
		die(path);
	B.sec[S_WRITE] += now() - t0;
	B.bytes[S_WRITE] += B.packlen;
	B.packlen = 0;
}

/* id, compress, seal and hash one chunk not seen before; the sealed
 * bytes join the pack. */
static void
store_chunk(const uint8_t *p, size_t n)
{
	uint8_t id[GFSB_ID_LEN], ad[40] = { 0 };
	const uint8_t *src = p;
	size_t clen = 0, slen;
	double t0;
	int added;

	t0 = now();
	gfsb_crypto_blob_id(B.keys, p, n, id);
	if (ops_idset_add(&B.seen, id, &added) != GFSB_OK)
		die("out of memory");
	B.sec[S_ID] += now() - t0;
	B.bytes[S_ID] += n;
	if (!added)
		return;

	B.comp = grow(B.comp, &B.compcap, gfsb_compress_bound(n));
	t0 = now();
	if (gfsb_compress_blob(B.z, p, n, B.comp, B.compcap, &clen) !=
	    GFSB_OK)
		die("compress");
	B.sec[S_COMP] += now() - t0;
	B.bytes[S_COMP] += n;
	if (clen > 0) {
		src = B.comp;
		n = clen;
	}

	slen = n + GFSB_SEAL_OVERHEAD;
	if (B.packlen + slen > PACK && B.packlen > 0)
		write_pack();
	B.pack = grow(B.pack, &B.sealcap, B.packlen + slen);
	memcpy(ad, id, GFSB_ID_LEN);
	t0 = now();
	gfsb_crypto_seal(B.keys, B.pack + B.packlen, src, n, ad, sizeof(ad));
	B.sec[S_SEAL] += now() - t0;
	B.bytes[S_SEAL] += n;

	t0 = now();
	gfsb_crypto_sha256(B.pack + B.packlen, slen, id);
	B.sec[S_HASH] += now() - t0;
	B.bytes[S_HASH] += slen;
	B.packlen += slen;
}

static int
file_one(const char *path, const struct stat *st, int flag, struct FTW *f)
{
	struct gfsb_chunker_scan scan;
	size_t len = 0, off, cut;
	ssize_t n;
	double t0;
	int fd;

	(void)f;
	if (flag != FTW_F || !S_ISREG(st->st_mode))
		return 0;
	t0 = now();
	if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) < 0)
		return 0;
	while ((n = pread(fd, B.step, READ_STEP, (off_t)len)) > 0)
		len += (size_t)n;
	B.sec[S_READ] += now() - t0;
	B.bytes[S_READ] += len;
	/* The whole file in memory for the stages that follow (not
	 * timed: the pipeline reads each byte once). */
	B.file = grow(B.file, &B.filecap, len + 1);
	for (len = 0; (n = pread(fd, B.file + len, B.filecap - len,
	    (off_t)len)) > 0; len += (size_t)n)
		if (len + (size_t)n == B.filecap)
			B.file = grow(B.file, &B.filecap, 2 * B.filecap);
	close(fd);

	for (off = 0; off < len; off += cut) {
		t0 = now();
		gfsb_chunker_scan_init(&scan);
		if ((cut = gfsb_chunker_find(B.ck, &scan, B.file + off,
		    len - off)) == 0)
			cut = len - off;
		B.sec[S_CHUNK] += now() - t0;
		B.bytes[S_CHUNK] += cut;
		store_chunk(B.file + off, cut);
	}
	return 0;
}

static void
setup(int level)
{
	struct gfsb_chunker_params p = { GFSB_CHUNK_MIN_DEFAULT,
		GFSB_CHUNK_AVG_DEFAULT, GFSB_CHUNK_MAX_DEFAULT };
	uint64_t gear[256];
	uint8_t seed[GFSB_KEY_LEN];
	struct gfsb_ctx *ctx;

	/* A context initializes the crypto library. */
	if (gfsb_ctx_new(&ctx) != GFSB_OK) {
		fprintf(stderr, "gfsb_stage_bench: cannot set up\n");
		exit(1);
	}
	gfsb_ctx_free(ctx);
	gfsb_crypto_random(seed, sizeof(seed));
	gfsb_crypto_expand(seed, gear, sizeof(gear));
	if (gfsb_chunker_new(&p, gear, &B.ck) != GFSB_OK ||
	    gfsb_crypto_keys_new(&B.keys) != GFSB_OK ||
	    gfsb_compress_new(level, &B.z) != GFSB_OK) {
		fprintf(stderr, "gfsb_stage_bench: cannot set up\n");
		exit(1);
	}
}

int
main(int argc, char **argv)
{
	double t0, sum = 0;
	int i, level = GFSB_COMPRESS_LEVEL_DEFAULT;

	B.outdir = "/var/tmp";
	for (i = 1; i + 1 < argc && argv[i][0] == '-'; i += 2) {
		if (strcmp(argv[i], "--out") == 0)
			B.outdir = argv[i + 1];
		else if (strcmp(argv[i], "--level") == 0)
			level = atoi(argv[i + 1]);
		else
			break;
	}
	if (i != argc - 1 || level < 0 || level > GFSB_COMPRESS_LEVEL_MAX) {
		fprintf(stderr, "usage: gfsb_stage_bench [--out DIR] "
		    "[--level N] DIR\n");
		return 2;
	}
	setup(level);
	t0 = now();
	if (nftw(argv[i], walk_one, 64, FTW_PHYS) != 0)
		die(argv[i]);
	B.sec[S_WALK] = now() - t0;
	if (nftw(argv[i], file_one, 64, FTW_PHYS) != 0)
		die(argv[i]);
	if (B.packlen > 0)
		write_pack();
	for (i = 0; i < S_N; i++) {
		printf("%-8s %7.3f s %10.1f %s\n", stage_name[i], B.sec[i],
		    i == S_WALK ? (double)B.bytes[i] :
		    (double)B.bytes[i] / (1 << 20),
		    i == S_WALK ? "files" : "MiB");
		sum += B.sec[i];
	}
	printf("sum      %7.3f s\n", sum);
	return 0;
}
