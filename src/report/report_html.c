/* report_html: the HTML rendering (placeholder until written). */
#include <gfsbackup/report.h>

gfsb_err
gfsb_report_render_html(const struct gfsb_report *r, struct gfsb_buf *out)
{
	(void)r;
	(void)out;
	return GFSB_EUNSUPPORTED;
}
