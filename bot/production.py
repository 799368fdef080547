"""Helpers for the production profile (scripts/run-prod.sh, deploy/): wait for the services,
create the database, and write the load balancer's configuration, all from the environment.

    python -m bot.production wait            # PostgreSQL, Redis and RabbitMQ accept connections
    python -m bot.production create-db       # CREATE DATABASE $TRACKER_DB_NAME when missing
    python -m bot.production nginx --out F   # nginx.conf for the replicas
    python -m bot.production env             # the effective settings, as shell assignments

The variables are the ones bot/deployment.py reads (TRACKER_DB_*, REDIS_*, RABBITMQ_*), plus
the replica counts and ports below; the README's "Production" section lists them all.
"""
from __future__ import annotations

import argparse
import os
import socket
import sys
import time
from pathlib import Path
from typing import Dict, List, Mapping, Tuple
from urllib.parse import quote

# Settings of the production profile and their defaults on one machine (the services of
# /work/.library/env/machines/python-svc.md: trust authentication, guest/guest).
DEFAULTS: Dict[str, str] = {
    "RASA_PORT": "5005",  # the load balancer: REST channel, widget, kiosk, HTTP API
    "ACTIONS_PORT": "5055",  # the load balancer in front of the action servers
    "RASA_REPLICAS": "2",
    "ACTION_REPLICAS": "2",
    "TRACKER_DB_HOST": "127.0.0.1",
    "TRACKER_DB_PORT": "5432",
    "TRACKER_DB_NAME": "massage",
    "TRACKER_DB_USER": "root",
    "TRACKER_DB_PASSWORD": "",
    "REDIS_HOST": "127.0.0.1",
    "REDIS_PORT": "6379",
    "REDIS_DB": "1",
    "RABBITMQ_HOST": "127.0.0.1",
    "RABBITMQ_PORT": "5672",
    "RABBITMQ_USER": "guest",
    "RABBITMQ_PASSWORD": "guest",
    "RABBITMQ_QUEUE": "rasa_events",
    "LOCK_STORE": "postgres",  # conversation locks: PostgreSQL advisory locks (or redis)
    "TICKET_LOCK_LIFETIME": "10",  # Rasa's Redis locks only: seconds before a dead replica's lock expires
    "TRUSTED_PROXIES": "1",  # the replicas sit behind the balancer
    "ANALYTICS_PORT": "5070",  # the analytics consumer's staff report (also at /staff/report on RASA_PORT)
    "ANALYTICS_QUEUE": "rasa_analytics",  # its own queue on Rasa's exchange
    "RELAY_PORT": "5071",  # the event outbox relay's /health (bot/delivery/outbox.py)
}
SECRETS = {"TRACKER_DB_PASSWORD", "RABBITMQ_PASSWORD", "REDIS_PASSWORD", "RASA_TOKEN"}


def settings(env: Mapping[str, str]) -> Dict[str, str]:
    """DEFAULTS overridden by the environment, plus the derived replica ports and URLs."""
    merged = {key: env.get(key, value) for key, value in DEFAULTS.items()}
    rasa_port, actions_port = int(merged["RASA_PORT"]), int(merged["ACTIONS_PORT"])
    merged.setdefault("RASA_REPLICA_BASE_PORT", env.get("RASA_REPLICA_BASE_PORT", str(rasa_port + 1)))
    merged.setdefault("ACTION_REPLICA_BASE_PORT", env.get("ACTION_REPLICA_BASE_PORT", str(actions_port + 1)))
    merged["DATABASE_URL"] = env.get("DATABASE_URL") or database_url(merged)
    merged["ACTION_ENDPOINT_URL"] = env.get("ACTION_ENDPOINT_URL") or f"http://127.0.0.1:{actions_port}/webhook"
    return merged


def database_url(s: Mapping[str, str]) -> str:
    """The knowledge base shares the tracker store's PostgreSQL database (its own tables)."""
    password = f":{quote(s['TRACKER_DB_PASSWORD'], safe='')}" if s.get("TRACKER_DB_PASSWORD") else ""
    return (f"postgresql://{quote(s['TRACKER_DB_USER'], safe='')}{password}@{s['TRACKER_DB_HOST']}:"
            f"{s['TRACKER_DB_PORT']}/{s['TRACKER_DB_NAME']}")


def replica_ports(base: str, count: str) -> List[int]:
    return [int(base) + i for i in range(int(count))]


def wait_for(endpoints: List[Tuple[str, int]], timeout_s: float = 60.0) -> List[Tuple[str, int]]:
    """Wait until every host:port accepts a TCP connection; returns those that never did."""
    deadline = time.monotonic() + timeout_s
    pending = list(endpoints)
    while pending and time.monotonic() < deadline:
        still = []
        for host, port in pending:
            try:
                with socket.create_connection((host, port), timeout=1):
                    pass
            except OSError:
                still.append((host, port))
        pending = still
        if pending:
            time.sleep(0.5)
    return pending


def create_database(s: Mapping[str, str]) -> bool:
    """CREATE DATABASE when it does not exist yet (connecting to the server's `postgres`
    database); returns whether it was created."""
    from sqlalchemy import create_engine, text

    admin_url = database_url({**s, "TRACKER_DB_NAME": "postgres"})
    engine = create_engine(admin_url, isolation_level="AUTOCOMMIT", future=True)
    try:
        with engine.connect() as connection:
            exists = connection.execute(text("SELECT 1 FROM pg_database WHERE datname = :name"),
                                        {"name": s["TRACKER_DB_NAME"]}).first()
            if exists:
                return False
            quoted = s["TRACKER_DB_NAME"].replace('"', '""')
            connection.execute(text(f'CREATE DATABASE "{quoted}"'))
            return True
    finally:
        engine.dispose()


def nginx_conf(s: Mapping[str, str], run_dir: Path) -> str:
    """nginx in front of the Rasa replicas and the action servers.

    A refused connection, a reset or a 502/503 from one replica is retried once on the other,
    also for POST: every message carries an id, and a conversation that already handled it
    answers from the stored turn (bot/delivery/once.py), so a retry never handles a message twice.
    The failed replica is left out for a few seconds. The conversation lock (PostgreSQL advisory
    locks, or Redis) keeps two messages of one conversation from running at once, whichever
    replica gets them."""
    rasa = "\n".join(f"    server 127.0.0.1:{p} max_fails=1 fail_timeout=5s;"
                     for p in replica_ports(s["RASA_REPLICA_BASE_PORT"], s["RASA_REPLICAS"]))
    # max_fails=0: an action server is tried again at once when it comes back (a refused
    # connection costs nothing, and the other one is tried next).
    actions = "\n".join(f"    server 127.0.0.1:{p} max_fails=0;"
                        for p in replica_ports(s["ACTION_REPLICA_BASE_PORT"], s["ACTION_REPLICAS"]))
    run_dir = run_dir.resolve()
    return f"""# Written by `python -m bot.production nginx` (scripts/run-prod.sh); edit the environment, not this file.
worker_processes 1;
pid {run_dir}/nginx.pid;
error_log {run_dir}/logs/nginx-error.log warn;
user root;
events {{ worker_connections 1024; }}
http {{
  access_log off;
  client_body_temp_path {run_dir}/nginx-tmp/body;
  proxy_temp_path {run_dir}/nginx-tmp/proxy;
  fastcgi_temp_path {run_dir}/nginx-tmp/fastcgi;
  uwsgi_temp_path {run_dir}/nginx-tmp/uwsgi;
  scgi_temp_path {run_dir}/nginx-tmp/scgi;
  client_max_body_size 2m;
  server_tokens off;

  upstream rasa {{
{rasa}
    keepalive 32;
  }}
  upstream actions {{
{actions}
    keepalive 16;
  }}
  server {{
    listen {s['RASA_PORT']};
    # The analytics consumer's report; the rest of /staff/ (booking requests) is on the replicas.
    location ~ ^/staff/(report(\\.html)?)$ {{
      rewrite ^/staff/(.*)$ /$1 break;
      proxy_pass http://127.0.0.1:{s['ANALYTICS_PORT']};
      proxy_connect_timeout 2s;
    }}
    location / {{
      proxy_pass http://rasa;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      # With the port: the staff page's own form posts are recognised as same-origin by it.
      proxy_set_header Host $http_host;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
      proxy_set_header X-Forwarded-Proto $scheme;
      proxy_next_upstream error timeout http_502 http_503 non_idempotent;
      proxy_next_upstream_tries 2;
      proxy_connect_timeout 2s;
      proxy_read_timeout 60s;
    }}
  }}
  server {{
    listen 127.0.0.1:{s['ACTIONS_PORT']};
    location / {{
      proxy_pass http://actions;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_next_upstream error timeout http_502 http_503 non_idempotent;
      proxy_next_upstream_tries 2;
      proxy_connect_timeout 2s;
      proxy_read_timeout 60s;
    }}
  }}
}}
"""


def main(argv: List[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Production profile helpers.")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("wait")
    sub.add_parser("create-db")
    sub.add_parser("env")
    nginx = sub.add_parser("nginx")
    nginx.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    s = settings(os.environ)
    if args.command == "wait":
        services = [(s["TRACKER_DB_HOST"], int(s["TRACKER_DB_PORT"])), (s["RABBITMQ_HOST"], int(s["RABBITMQ_PORT"]))]
        if s["LOCK_STORE"] == "redis":
            services.append((s["REDIS_HOST"], int(s["REDIS_PORT"])))
        missing = wait_for(services, float(os.environ.get("SERVICES_TIMEOUT_S", "60")))
        for host, port in missing:
            print(f"not reachable: {host}:{port}", file=sys.stderr)
        return 1 if missing else 0
    if args.command == "create-db":
        created = create_database(s)
        print(f"database {s['TRACKER_DB_NAME']}: {'created' if created else 'exists'}")
        return 0
    if args.command == "nginx":
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(nginx_conf(s, args.out.parent), encoding="utf-8")
        return 0
    for key, value in s.items():  # env: shell-quoted assignments, for run-prod.sh to `eval`
        print(f"{key}={_sh_quote(value)}")
    return 0


def _sh_quote(value: str) -> str:
    return "'" + value.replace("'", "'\"'\"'") + "'"


if __name__ == "__main__":
    sys.exit(main())
