/* report_text: the text rendering (placeholder until written). */
#include <gfsbackup/report.h>

gfsb_err
gfsb_report_render_text(const struct gfsb_report *r, struct gfsb_buf *out)
{
	(void)r;
	(void)out;
	return GFSB_EUNSUPPORTED;
}
