/*
 * libcurl's global initialisation, once for the process: the S3 backend
 * and the mail sender both use libcurl, and curl_global_init is not
 * thread-safe with older libcurl nor free to call twice.
 */
#include <pthread.h>

#include <curl/curl.h>

#include <gfsbackup/util.h>

static pthread_once_t once = PTHREAD_ONCE_INIT;
static int ok;

static void
init(void)
{
	ok = curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK;
}

int
gfsb_curl_init(void)
{
	pthread_once(&once, init);
	return ok;
}
