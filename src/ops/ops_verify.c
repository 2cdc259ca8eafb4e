/* ops_verify: placeholder, written next. */
#include <gfsbackup/ops.h>
