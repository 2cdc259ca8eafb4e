/*
 * The offsite bucket's own defences, written out for its owner: a bucket
 * policy that gives the backed-up server exactly what `gfsbackup sync`
 * and the other commands need under one prefix (docs/S3.md lists every
 * request the S3 backend makes), denies it everything that could shorten
 * or remove the bucket's history, and gives an independent verifier
 * read-only access; the lifecycle rule that expires replaced versions
 * after a retention window; and the owner's steps on AWS and Ceph RGW.
 *
 * Nothing is sent anywhere: the owner applies the text with credentials
 * the server never holds (docs/OFFSITE-SECURITY.md).  Every action named
 * is known to both AWS and Ceph RGW 16, which refuses a whole policy that
 * names one it does not know.  The output depends only on the options, in
 * a fixed order, so that two runs can be compared with diff.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include <gfsbackup/backend.h>
#include <gfsbackup/ops.h>

/* Object reads: GET and HEAD (of a version too, for --as-of views), with
 * the lock headers that HEAD shows only with GetObjectRetention. */
static const char *const read_objects[] = {
	"s3:GetObject", "s3:GetObjectRetention", "s3:GetObjectVersion", NULL
};

/* ListObjectsV2, and the listing of versions an as-of view reads. */
static const char *const list_prefix[] = {
	"s3:ListBucket", "s3:ListBucketVersions", NULL
};

/* GET ?object-lock= and ?versioning=: what the backend asks the bucket. */
static const char *const read_bucket[] = {
	"s3:GetBucketObjectLockConfiguration", "s3:GetBucketVersioning", NULL
};

/* PUT (single and multipart: CreateMultipartUpload, UploadPart and
 * CompleteMultipartUpload are all s3:PutObject), AbortMultipartUpload,
 * DELETE without a version id (a delete marker on a versioned bucket),
 * and PUT ?retention=, which can only lengthen a lock without
 * BypassGovernanceRetention. */
static const char *const write_objects[] = {
	"s3:AbortMultipartUpload", "s3:DeleteObject", "s3:PutObject",
	"s3:PutObjectRetention", NULL
};

/* GET ?uploads=: prune's search for uploads a killed process left. */
static const char *const list_uploads[] = {
	"s3:ListBucketMultipartUploads", NULL
};

/*
 * Everything that could shorten or remove history: delete a version;
 * shorten or lift a GOVERNANCE lock (or a legal hold); suspend
 * versioning; change the Object Lock configuration; a lifecycle rule that
 * expires versions at once (DeleteBucketLifecycle is this action too);
 * change or drop this policy; grant others through ACLs what this policy
 * denies the server; delete the bucket.  Denied explicitly, so that no
 * grant elsewhere (an IAM policy on AWS, a future statement) allows them.
 */
static const char *const deny_history[] = {
	"s3:BypassGovernanceRetention", "s3:DeleteBucket",
	"s3:DeleteBucketPolicy", "s3:DeleteObjectVersion", "s3:PutBucketAcl",
	"s3:PutBucketObjectLockConfiguration", "s3:PutBucketPolicy",
	"s3:PutBucketVersioning", "s3:PutLifecycleConfiguration",
	"s3:PutObjectAcl", "s3:PutObjectLegalHold", "s3:PutObjectVersionAcl",
	NULL
};

/* A principal's ARN, taken apart. */
struct arn {
	char account[64];
	char type[16]; /* "user", "role", "assumed-role" */
	char name[256];
};

/* Are the n bytes at s ASCII letters, digits or bytes of set?  (Not
 * isalnum: the locale must not widen what goes into a policy.) */
static int
all_of(const char *s, size_t n, const char *set)
{
	size_t i;
	char c;

	for (i = 0; i < n; i++) {
		c = s[i];
		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9'))
			continue;
		if (c == '\0' || strchr(set, c) == NULL)
			return 0;
	}
	return 1;
}

/*
 * arn:PARTITION:iam::ACCOUNT:user/NAME (or role/NAME), or
 * arn:PARTITION:sts::ACCOUNT:assumed-role/ROLE/SESSION.  ACCOUNT is 12
 * digits on AWS, empty or a tenant on Ceph.  Names keep to IAM's
 * characters, so no wildcard or quote gets into the policy or the shell
 * commands printed with it.
 */
static gfsb_err
parse_arn(struct gfsb_ctx *ctx, const char *who, const char *s,
    struct arn *a)
{
	const char *f[6], *p = s, *res, *slash;
	size_t n[6], i, tl;
	int sts;

	memset(a, 0, sizeof(*a));
	for (i = 0; i < 5; i++) {
		f[i] = p;
		if ((p = strchr(p, ':')) == NULL)
			goto bad;
		n[i] = (size_t)(p - f[i]);
		p++;
	}
	f[5] = res = p;
	n[5] = strlen(p);
	if (n[0] != 3 || memcmp(f[0], "arn", 3) != 0 || n[1] == 0 ||
	    n[1] > 32 || !all_of(f[1], n[1], "-") || n[3] != 0 ||
	    n[4] >= sizeof(a->account) || !all_of(f[4], n[4], "_-") ||
	    n[5] == 0 || n[5] > 512)
		goto bad;
	if (n[2] == 3 && memcmp(f[2], "iam", 3) == 0)
		sts = 0;
	else if (n[2] == 3 && memcmp(f[2], "sts", 3) == 0)
		sts = 1;
	else
		goto bad;
	memcpy(a->account, f[4], n[4]);
	/* A whole account (":root") is refused: the denials would bind its
	 * administrators too, and the grants reach every user in it. */
	if ((slash = strchr(res, '/')) == NULL)
		goto bad;
	tl = (size_t)(slash - res);
	if (tl >= sizeof(a->type))
		goto bad;
	memcpy(a->type, res, tl);
	if (sts ? strcmp(a->type, "assumed-role") != 0 :
	    strcmp(a->type, "user") != 0 && strcmp(a->type, "role") != 0)
		goto bad;
	slash++;
	if (*slash == '\0' || strlen(slash) >= sizeof(a->name) ||
	    !all_of(slash, strlen(slash), "+=,.@_-/") ||
	    slash[strlen(slash) - 1] == '/')
		goto bad;
	strcpy(a->name, slash);
	return GFSB_OK;
bad:
	return gfsb_ctx_seterr(ctx, GFSB_EINVAL, "%s \"%.200s\" is not the "
	    "ARN of an IAM user or role (want arn:aws:iam::ACCOUNT:user/NAME "
	    "or arn:aws:iam::ACCOUNT:role/NAME; on Ceph "
	    "arn:aws:iam:::user/UID)", who, s);
}

static json_t *
strings(const char *const *v)
{
	json_t *a = json_array();

	for (; a != NULL && *v != NULL; v++)
		if (json_array_append_new(a, json_string(*v)) != 0) {
			json_decref(a);
			return NULL;
		}
	return a;
}

/* A statement; cond may be NULL.  Takes its references. */
static int
add_stmt(json_t *list, const char *sid, const char *effect, json_t *who,
    json_t *actions, json_t *resources, json_t *cond)
{
	json_t *st = json_object(), *princ = json_object();
	int bad = st == NULL || princ == NULL || who == NULL ||
	    actions == NULL || resources == NULL;

	if (!bad) {
		bad |= json_object_set_new(st, "Sid", json_string(sid));
		bad |= json_object_set_new(st, "Effect", json_string(effect));
		bad |= json_object_set_new(princ, "AWS", who);
		who = NULL;
		bad |= json_object_set_new(st, "Principal", princ);
		princ = NULL;
		bad |= json_object_set_new(st, "Action", actions);
		actions = NULL;
		bad |= json_object_set_new(st, "Resource", resources);
		resources = NULL;
		if (cond != NULL) {
			bad |= json_object_set_new(st, "Condition", cond);
			cond = NULL;
		}
		if (!bad) {
			bad = json_array_append_new(list, st) != 0;
			st = NULL;
		}
	}
	json_decref(st);
	json_decref(princ);
	json_decref(who);
	json_decref(actions);
	json_decref(resources);
	json_decref(cond);
	return bad ? -1 : 0;
}

/* ["a"] or ["a", "b"]. */
static json_t *
pair(const char *a, const char *b)
{
	const char *v[3] = { a, b, NULL };

	return strings(v);
}

/*
 * The policy.  Listing is limited to keys under the prefix with
 * StringLikeIfExists, not StringLike: S3 authorises HEAD on the bucket
 * (which init sends) as a listing without an s3:prefix, and Ceph 16 also
 * decides between 404 and 403 for a missing object that way; with a
 * plain StringLike both are refused and init fails.  The price: a listing
 * with no prefix at all is allowed (key names are not secret,
 * docs/SECURITY.md); one of another prefix is refused.
 */
static char *
policy_json(const char *bucket, const char *prefix, const char *server,
    const char *verifier)
{
	char bucket_arn[128], objects[2200], all[160], like[2100];
	json_t *root = json_object(), *st = json_array(), *cond = NULL;
	const char *both[3] = { server, verifier, NULL };
	char *text = NULL;
	int bad;

	snprintf(bucket_arn, sizeof(bucket_arn), "arn:aws:s3:::%s", bucket);
	snprintf(all, sizeof(all), "arn:aws:s3:::%s/*", bucket);
	snprintf(objects, sizeof(objects), "arn:aws:s3:::%s/%s%s*", bucket,
	    prefix, prefix[0] ? "/" : "");
	snprintf(like, sizeof(like), "%s/*", prefix);
	if (root == NULL || st == NULL)
		goto out;
	bad = json_object_set_new(root, "Version", json_string("2012-10-17"));
	bad |= json_object_set_new(root, "Statement", st);
	if (bad)
		goto out;
	if (prefix[0] != '\0' && (cond = json_pack("{s:{s:[s]}}",
	    "StringLikeIfExists", "s3:prefix", like)) == NULL)
		goto out;
	bad = add_stmt(st, "ReadObjects", "Allow", strings(both),
	    strings(read_objects), pair(objects, NULL), NULL);
	bad |= add_stmt(st, "ListPrefix", "Allow", strings(both),
	    strings(list_prefix), pair(bucket_arn, NULL), cond);
	bad |= add_stmt(st, "ReadBucketSettings", "Allow", strings(both),
	    strings(read_bucket), pair(bucket_arn, NULL), NULL);
	bad |= add_stmt(st, "ServerWriteObjects", "Allow", pair(server, NULL),
	    strings(write_objects), pair(objects, NULL), NULL);
	bad |= add_stmt(st, "ServerListUploads", "Allow", pair(server, NULL),
	    strings(list_uploads), pair(bucket_arn, NULL), NULL);
	bad |= add_stmt(st, "DenyRewritingHistory", "Deny", strings(both),
	    strings(deny_history), pair(bucket_arn, all), NULL);
	if (verifier != NULL)
		bad |= add_stmt(st, "VerifierReadOnly", "Deny",
		    pair(verifier, NULL), strings(write_objects),
		    pair(bucket_arn, all), NULL);
	if (!bad)
		text = json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
out:
	json_decref(root);
	return text;
}

/* The lifecycle configuration, in the JSON form of `aws s3api
 * put-bucket-lifecycle-configuration`.  No NewerNoncurrentVersions: with
 * it, a writer could push old versions out by writing new ones. */
static char *
lifecycle_json(const char *prefix, unsigned days)
{
	char filter[2100], id[300];
	json_t *root;
	char *text = NULL;

	snprintf(filter, sizeof(filter), "%s%s", prefix, prefix[0] ? "/" : "");
	snprintf(id, sizeof(id), "gfsbackup%s%.200s", prefix[0] ? "-" : "",
	    prefix);
	root = json_pack("{s:[{s:s, s:{s:s}, s:s, s:{s:I}, s:{s:b}, s:{s:I}}]}",
	    "Rules", "ID", id, "Filter", "Prefix", filter, "Status", "Enabled",
	    "NoncurrentVersionExpiration", "NoncurrentDays", (json_int_t)days,
	    "Expiration", "ExpiredObjectDeleteMarker", 1,
	    "AbortIncompleteMultipartUpload", "DaysAfterInitiation",
	    (json_int_t)GFSB_BUCKET_ABORT_UPLOAD_DAYS);
	if (root != NULL)
		text = json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	json_decref(root);
	return text;
}

/* s in single quotes for a POSIX shell. */
static void
sq(FILE *f, const char *s)
{
	fputc('\'', f);
	for (; *s != '\0'; s++) {
		if (*s == '\'')
			fputs("'\\''", f);
		else
			fputc(*s, f);
	}
	fputc('\'', f);
}

/* radosgw-admin's user create for a principal, if it is a Ceph user. */
static void
rgw_user(FILE *f, const struct arn *a, const char *what)
{
	if (strcmp(a->type, "user") != 0 || strchr(a->name, '/') != NULL) {
		fprintf(f, "#   (the %s is not a user: create it as your "
		    "gateway's roles are made)\n", what);
		return;
	}
	fprintf(f, "radosgw-admin user create --uid=%s", a->name);
	if (a->account[0] != '\0')
		fprintf(f, " --tenant=%s", a->account);
	fprintf(f, " --display-name='gfsbackup %s'\n", what);
}

/* aws iam create-user for a principal, if it is an IAM user. */
static void
iam_user(FILE *f, const struct arn *a, const char *what)
{
	const char *name = strrchr(a->name, '/');

	name = name != NULL ? name + 1 : a->name;
	if (strcmp(a->type, "user") != 0) {
		fprintf(f, "#   (the %s is a %s: give it no IAM policy that "
		    "reaches this bucket)\n", what, a->type);
		return;
	}
	fprintf(f, "aws iam create-user --user-name %s\n", name);
	fprintf(f, "aws iam create-access-key --user-name %s   # the %s's "
	    "keys\n", name, what);
}

/* The owner's steps, as a shell script whose comments explain them. */
static char *
guide_text(const struct gfsb_bucket_policy_opts *o, const char *bucket,
    const char *prefix, const struct arn *srv, const struct arn *ver,
    const char *lifecycle, unsigned days)
{
	char *text = NULL, url[2200];
	size_t len = 0;
	FILE *f;

	/* The URL as the backend reads it, so that spellings of the same
	 * place give the same text. */
	snprintf(url, sizeof(url), "s3://%s%s%s", bucket, prefix[0] ? "/" : "",
	    prefix);
	if ((f = open_memstream(&text, &len)) == NULL)
		return NULL;
	fprintf(f, "# What the owner of bucket %s sets up for the offsite "
	    "copy\n# %s (docs/OFFSITE-SECURITY.md).  With the owner's "
	    "credentials, never\n# the server's: the server must not be able "
	    "to undo any of it.\n#\n", bucket, url);
	fprintf(f, "# 1. The bucket policy (the JSON above, on standard "
	    "output):\ngfsbackup policy bucket ");
	sq(f, url);
	fprintf(f, " --server %s", o->server);
	if (o->verifier != NULL)
		fprintf(f, " --verifier %s", o->verifier);
	fprintf(f, " --json-only >policy.json\n#\n");
	fprintf(f, "# 2. The lifecycle rule: a version that was replaced or "
	    "deleted expires %u days\n#    later, unless its Object Lock "
	    "still holds it; a delete marker left alone\n#    goes too, and "
	    "an unfinished upload after %d days.  %u days must be longer\n#"
	    "    than it can take you to notice an attack.  It replaces "
	    "the bucket's other\n#    lifecycle rules: merge them by hand if "
	    "it has any.\n", days, GFSB_BUCKET_ABORT_UPLOAD_DAYS, days);
	fprintf(f, "cat >lifecycle.json <<'EOF'\n%s\nEOF\n#\n", lifecycle);
	fprintf(f, "# 3a. On AWS: the users (skip those that exist), then the "
	    "bucket with Object Lock\n#     (and so versioning; add "
	    "--create-bucket-configuration\n#     LocationConstraint=REGION "
	    "outside us-east-1), its lifecycle and policy.\n");
	iam_user(f, srv, "server");
	if (o->verifier != NULL)
		iam_user(f, ver, "verifier");
	fprintf(f, "aws s3api create-bucket --bucket %s "
	    "--object-lock-enabled-for-bucket\n", bucket);
	fprintf(f, "aws s3api put-bucket-lifecycle-configuration --bucket %s "
	    "--lifecycle-configuration file://lifecycle.json\n", bucket);
	fprintf(f, "aws s3api put-bucket-policy --bucket %s --policy "
	    "file://policy.json\n#\n", bucket);
	fprintf(f, "# 3b. On Ceph RGW: the users with radosgw-admin on a "
	    "cluster node (keep the keys\n#     it prints), then the same "
	    "S3 calls against the gateway as the bucket's owner:\n");
	rgw_user(f, srv, "server");
	if (o->verifier != NULL)
		rgw_user(f, ver, "verifier");
	fprintf(f, "RGW=https://rgw.example.net   # your gateway\n");
	fprintf(f, "aws --endpoint-url \"$RGW\" s3api create-bucket --bucket "
	    "%s --object-lock-enabled-for-bucket\n", bucket);
	fprintf(f, "aws --endpoint-url \"$RGW\" s3api "
	    "put-bucket-lifecycle-configuration --bucket %s "
	    "--lifecycle-configuration file://lifecycle.json\n", bucket);
	fprintf(f, "aws --endpoint-url \"$RGW\" s3api put-bucket-policy "
	    "--bucket %s --policy file://policy.json\n#\n", bucket);
	fprintf(f, "# 4. Check (as the owner): Object Lock \"Enabled\", "
	    "versioning \"Enabled\".\n");
	fprintf(f, "aws s3api get-object-lock-configuration --bucket %s\n",
	    bucket);
	fprintf(f, "aws s3api get-bucket-versioning --bucket %s\n", bucket);
	if (prefix[0] == '\0')
		fprintf(f, "# (No prefix: the policy covers the whole "
		    "bucket.)\n");
	if (fclose(f) != 0) {
		free(text);
		return NULL;
	}
	return text;
}

gfsb_err
gfsb_ops_bucket_policy(struct gfsb_ctx *ctx,
    const struct gfsb_bucket_policy_opts *o, struct gfsb_bucket_policy *out)
{
	struct gfsb_bucket_policy bp = { NULL, NULL, NULL };
	struct arn srv, ver;
	char bucket[64], prefix[2048];
	unsigned days = o->noncurrent_days ? o->noncurrent_days :
	    GFSB_BUCKET_NONCURRENT_DAYS;
	gfsb_err e;

	memset(&ver, 0, sizeof(ver));

	if (o->url == NULL)
		return gfsb_ctx_seterr(ctx, GFSB_EINVAL, "no bucket: give "
		    "s3://BUCKET/PREFIX");
	if ((e = gfsb_backend_s3_url_split(ctx, o->url, bucket,
	    sizeof(bucket), prefix, sizeof(prefix))) != GFSB_OK)
		return e;
	/* In a policy's resources and conditions these are wildcards and
	 * variables: the grant would reach other prefixes. */
	if (strpbrk(prefix, "*?") != NULL || strstr(prefix, "${") != NULL)
		return gfsb_ctx_seterr(ctx, GFSB_EINVAL, "%s: a bucket policy "
		    "reads '*', '?' and '${' in a prefix as wildcards and "
		    "variables; use a prefix without them", o->url);
	if (o->server == NULL)
		return gfsb_ctx_seterr(ctx, GFSB_EINVAL, "no server principal: "
		    "give the ARN of the user or role the server writes with");
	if ((e = parse_arn(ctx, "server principal", o->server, &srv)) !=
	    GFSB_OK)
		return e;
	if (o->verifier != NULL && (e = parse_arn(ctx, "verifier principal",
	    o->verifier, &ver)) != GFSB_OK)
		return e;
	if (o->verifier != NULL && strcmp(o->server, o->verifier) == 0)
		return gfsb_ctx_seterr(ctx, GFSB_EINVAL, "the verifier must "
		    "not be the server: give it its own read-only principal");
	if (days > GFSB_BUCKET_NONCURRENT_DAYS_MAX)
		return gfsb_ctx_seterr(ctx, GFSB_EINVAL, "%u days before "
		    "replaced versions expire: at most %d", days,
		    GFSB_BUCKET_NONCURRENT_DAYS_MAX);
	if ((bp.policy = policy_json(bucket, prefix, o->server,
	    o->verifier)) == NULL ||
	    (bp.lifecycle = lifecycle_json(prefix, days)) == NULL ||
	    (bp.guide = guide_text(o, bucket, prefix, &srv, &ver,
	    bp.lifecycle, days)) == NULL) {
		gfsb_ops_bucket_policy_fini(&bp);
		return GFSB_ENOMEM;
	}
	*out = bp;
	return GFSB_OK;
}

void
gfsb_ops_bucket_policy_fini(struct gfsb_bucket_policy *bp)
{
	if (bp == NULL)
		return;
	free(bp->policy);
	free(bp->lifecycle);
	free(bp->guide);
	bp->policy = bp->lifecycle = bp->guide = NULL;
}
