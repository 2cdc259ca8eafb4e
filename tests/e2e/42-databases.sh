#!/bin/bash
# [databases] against a real PostgreSQL server started here (Debian's
# postgresql, a cluster of its own on a Unix socket in a scratch
# directory, no TCP): the daily job dumps each database with pg_dump into
# one snapshot (a file per database); the dump restored into a fresh
# database holds every table as it was, row for row.  A database that
# cannot be dumped fails the stage, names it, and stores no snapshot.
. "$(dirname "$0")/lib.sh"

PGBIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
if [ -z "$PGBIN" ] || ! command -v pg_dump >/dev/null; then
	skip_part "PostgreSQL is not installed (apt-get install postgresql)"
	exit 0
fi
# The server refuses to run as root: as the postgres user, in a scratch
# directory that user can enter.
if is_root; then
	id postgres >/dev/null 2>&1 || { skip_part "no postgres user"; exit 0; }
	PGDIR=$(mktemp -d /tmp/gfsb-pg.XXXXXX)
	chmod 0755 "$PGDIR"
	chown postgres "$PGDIR"
	as_pg() { runuser -u postgres -- "$@"; }
else
	PGDIR=$T/pg
	mkdir "$PGDIR"
	as_pg() { "$@"; }
fi
CLEANUPS+=("as_pg '$PGBIN/pg_ctl' -D '$PGDIR/data' -m immediate stop >/dev/null 2>&1; rm -rf '$PGDIR'")
PGUSER=$(is_root && echo postgres || id -un)
as_pg "$PGBIN/initdb" -D "$PGDIR/data" --auth=trust -U "$PGUSER" >"$T/initdb.log" 2>&1 ||
	{ cat "$T/initdb.log"; fail "initdb"; }
as_pg "$PGBIN/pg_ctl" -D "$PGDIR/data" -w -t 60 -l "$PGDIR/log" \
	-o "-k $PGDIR -c listen_addresses=''" start >/dev/null ||
	{ cat "$PGDIR/log"; fail "the PostgreSQL server did not start"; }
export PGHOST=$PGDIR PGUSER
sql() { psql -X -q -v ON_ERROR_STOP=1 "$@"; }
createdb appdb
createdb billing
sql -d appdb -c "CREATE TABLE customers (id int PRIMARY KEY, name text, since date);
	INSERT INTO customers SELECT g, 'customer ' || g, date '2020-01-01' + g
	FROM generate_series(1, 5000) g;
	CREATE TABLE notes (id serial PRIMARY KEY, body text);
	INSERT INTO notes (body) VALUES ('it''s quoted'), (E'two\nlines'), (NULL);"
sql -d billing -c "CREATE TABLE invoices (n bigint, amount numeric(10,2));
	INSERT INTO invoices SELECT g, g * 1.25 FROM generate_series(1, 20000) g;"

R=$T/repo
S=$T/src
mkdir -p "$S"
echo files >"$S/f"
init_repo "$R"
conf() {
	cat >"$T/gfsbackup.conf" <<EOC
[repository]
url = $R
password-file = $T/pw
state-dir = $T/state
[backup]
paths = $S
[retention]
keep-daily = 7
[report]
dir = $T/reports
[databases]
postgresql = $1
postgresql-options = -h $PGDIR -U $PGUSER
EOC
	chmod 600 "$T/gfsbackup.conf"
}

step "the night's job dumps both databases into one snapshot"
conf "appdb billing"
expect 0 "$GFSB" run --config "$T/gfsbackup.conf" --time '2026-06-01 01:00:00'
err_has "databases: OK: dumped 2 databases into snapshot"
expect 0 "$GFSB" snapshots -r "$R" --json
DBSNAP=$("$PY" - "$T/out" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
db = [x for x in s if x["paths"] == ["/postgresql-appdb.sql", "/postgresql-billing.sql"]]
assert len(db) == 1 and len(s) == 2, s
print(db[0]["id"])
PY
)

step "restored into fresh databases, every table row for row"
for d in appdb billing; do
	"$GFSB" dump -r "$R" "$DBSNAP:/postgresql-$d.sql" >"$T/$d.sql"
	createdb "restored_$d"
	sql -d "restored_$d" -f "$T/$d.sql" >/dev/null
done
same() { # DB TABLE ORDER
	a=$(sql -At -d "$1" -c "SELECT md5(string_agg(t::text, '|' ORDER BY $3)) FROM $2 t")
	b=$(sql -At -d "restored_$1" -c "SELECT md5(string_agg(t::text, '|' ORDER BY $3)) FROM $2 t")
	[ -n "$a" ] && [ "$a" = "$b" ] || fail "$1.$2 differs after the restore"
}
same appdb customers id
same appdb notes id
same billing invoices n
[ "$(sql -At -d restored_appdb -c 'SELECT count(*) FROM customers')" = 5000 ] || fail "rows"

step "a database that cannot be dumped: the stage fails, names it, stores nothing"
conf "appdb nosuchdb"
n=$(snap_json "$R" | "$PY" -c 'import json,sys; print(len(json.load(sys.stdin)))')
expect 1 "$GFSB" run --config "$T/gfsbackup.conf" --time '2026-06-02 01:00:00'
err_has "databases: FAILED: postgresql-nosuchdb.sql: pg_dump exited with status 1; no snapshot stored"
grep -q "postgresql-nosuchdb.sql: pg_dump exited" "$(ls -t "$T"/reports/report-*.txt | head -1)" ||
	fail "the report does not name the database"
m=$(snap_json "$R" | "$PY" -c 'import json,sys; print(len(json.load(sys.stdin)))')
# the night's file backup is there; no database snapshot
[ "$m" = $((n + 1)) ] || fail "snapshots: $n before, $m after"
echo "ok"
