/*
 * jansson's memory, wiped before it is freed.  The config's JSON holds
 * the chunker seed and a version 2 config the reader keys, in hex; a
 * snapshot's names what was backed up.  We wipe our own buffers, but
 * jansson copies every string it parses or dumps into memory of its own
 * and frees it as it is: so, once for the process, its allocator is one
 * that zeroes each block (its usable size, which malloc knows) as it
 * frees it.  Blocks are plain malloc's, so a string json_dumps returns is
 * still the caller's to free() (those holding secrets we wipe first).
 */
#include <malloc.h>
#include <pthread.h>
#include <stdlib.h>

#include <jansson.h>
#include <sodium.h>

#include <gfsbackup/util.h>

static pthread_once_t once = PTHREAD_ONCE_INIT;

static void *
wipe_malloc(size_t n)
{
	return malloc(n);
}

static void
wipe_free(void *p)
{
	if (p == NULL)
		return;
	sodium_memzero(p, malloc_usable_size(p));
	free(p);
}

static void
init(void)
{
	json_set_alloc_funcs(wipe_malloc, wipe_free);
}

void
gfsb_json_wipe_init(void)
{
	pthread_once(&once, init);
}

int
gfsb_json_wipes(void)
{
	json_malloc_t m;
	json_free_t f;

	json_get_alloc_funcs(&m, &f);
	return m == wipe_malloc && f == wipe_free;
}
