# Starts a throwaway PostgreSQL cluster on loopback for the store tests and
# exports MONITOR_TEST_POSTGRES_URL. Sourced by .ci/run.
pg_version=$(ls /usr/lib/postgresql | sort -V | tail -n 1)
pg_bin=/usr/lib/postgresql/$pg_version/bin
pg_data=$(mktemp -d /tmp/monitor-pg.XXXXXX)
pg_port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
chown postgres "$pg_data"
su postgres -c "$pg_bin/initdb -D $pg_data -A trust -U postgres" >/dev/null
su postgres -c "$pg_bin/pg_ctl -D $pg_data -o '-p $pg_port -k /tmp -c listen_addresses=127.0.0.1' -l $pg_data/log -w start" >/dev/null
su postgres -c "psql -h 127.0.0.1 -p $pg_port -U postgres -c 'CREATE DATABASE monitor_test'" >/dev/null
export MONITOR_TEST_POSTGRES_URL="postgresql+psycopg://postgres@127.0.0.1:$pg_port/monitor_test"
