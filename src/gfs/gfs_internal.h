/* Declarations shared inside the gfs module. */
#ifndef GFSB_GFS_INTERNAL_H
#define GFSB_GFS_INTERNAL_H

#include <gfsbackup/gfs.h>

/* latest minus a calendar duration, exactly as keep-within measures its
 * window (gfs_retention.c). */
struct gfsb_time gfs_cutoff(const struct gfsb_time *latest,
    const struct gfsb_duration *d);

/* *out = a malloc'd array of the indexes of items[0..n), newest first,
 * ties in input order: the order restic walks a group in.  GFSB_ENOMEM. */
gfsb_err gfs_newest_first(const struct gfsb_gfs_item *items, size_t n,
    size_t **out) GFSB_WUR;

#endif
