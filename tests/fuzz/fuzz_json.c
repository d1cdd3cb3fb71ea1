/*
 * fuzz_json.c - the JSON reader behind fcap's alert files (EVE lines,
 * host/lib/json.c): any text yields a tree or an error naming an offset,
 * never a crash, and deep nesting must not exhaust the stack. An accepted
 * tree is walked whole.
 */
#include "fuzz_common.h"

#include <string.h>

#include "fcap/json.h"

static size_t walk(const struct fcap_json *j, unsigned depth)
{
	size_t n = 1;
	if (depth > 100000)
		abort();
	if (j->type == FCAP_JSON_STRING && j->str == NULL)
		abort();
	if (j->type == FCAP_JSON_ARRAY || j->type == FCAP_JSON_OBJECT)
		for (size_t i = 0; i < j->n; i++) {
			if (j->type == FCAP_JSON_OBJECT && j->keys[i] == NULL)
				abort();
			n += walk(&j->kid[i], depth + 1);
		}
	return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char errbuf[FCAP_ERRBUF_SIZE];
	/* A private copy, so that ASan sees any read past the text. */
	char *text = malloc(size ? size : 1);
	if (text == NULL)
		abort();
	memcpy(text, data, size);
	errbuf[0] = '\0';
	struct fcap_json *j = fcap_json_parse(text, size, errbuf);
	if (j != NULL) {
		(void)walk(j, 0);
		(void)fcap_json_get_str(j, "event_type", NULL);
		(void)fcap_json_get_u64(j, "flow_id", 0);
		fcap_json_free(j);
	} else if (errbuf[0] == '\0') {
		abort();
	}
	free(text);
	return 0;
}
