/*
 * S3's XML answers (src/backend/s3_xml.c): the input goes to every parser
 * in turn: ListObjectsV2, an error body, InitiateMultipartUploadResult,
 * ListMultipartUploadsResult.
 */
#include <stdlib.h>
#include <string.h>

#include "backend/s3_internal.h"
#include "fuzz_common.h"

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *p, size_t n)
{
	const char *xml = (const char *)p;
	struct s3_list_page pg;
	struct s3_upload *ups = NULL;
	char code[64], msg[256], id[512];
	size_t nups = 0, i;
	int truncated;

	if (s3_xml_list(xml, n, &pg) == 0) {
		for (i = 0; i < pg.n; i++)
			if (pg.items[i].key == NULL || pg.items[i].key[0] == 0)
				abort();
		if (pg.truncated && (pg.next_token == NULL ||
		    pg.next_token[0] == '\0'))
			abort(); /* the caller would list forever */
		s3_xml_list_fini(&pg);
	}
	s3_xml_error(xml, n, code, sizeof(code), msg, sizeof(msg));
	if (strlen(code) >= sizeof(code) || strlen(msg) >= sizeof(msg))
		abort();
	if (s3_xml_upload_id(xml, n, id, sizeof(id)) == 0 && id[0] == '\0')
		abort();
	if (s3_xml_uploads(xml, n, &ups, &nups, &truncated) == 0) {
		for (i = 0; i < nups; i++) {
			free(ups[i].key);
			free(ups[i].id);
		}
		free(ups);
	}
	return 0;
}
