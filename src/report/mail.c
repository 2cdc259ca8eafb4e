/* mail: SMTP delivery with libcurl (placeholder until written). */
#include <gfsbackup/report.h>

gfsb_err
gfsb_mail_send(struct gfsb_ctx *ctx, const struct gfsb_mail_opts *o,
    const char *subject, const char *text, const char *html)
{
	(void)ctx;
	(void)o;
	(void)subject;
	(void)text;
	(void)html;
	return GFSB_EUNSUPPORTED;
}
