"""gunicorn settings for the desk's web process: `gunicorn -c gunicorn.conf.py beatdesk.wsgi:application`.

Installed as /etc/beatdesk/gunicorn.conf.py by the systemd unit; the container image uses
the copy in the source tree. Every value can be overridden on the command line or in
GUNICORN_CMD_ARGS (e.g. GUNICORN_CMD_ARGS="--bind 0.0.0.0:8000 --workers 8").
"""

import multiprocessing
import os

# Behind the reverse proxy on the same machine; 0.0.0.0:8000 when the proxy is elsewhere.
bind = os.environ.get("BEATDESK_BIND", "127.0.0.1:8000")
# Threads, not more processes: a page mostly waits on PostgreSQL, and each process keeps
# its own connections (conn_max_age 60 s) and its own copy of the code.
worker_class = "gthread"
workers = int(os.environ.get("BEATDESK_WEB_PROCESSES", min(4, multiprocessing.cpu_count() + 1)))
threads = int(os.environ.get("BEATDESK_WEB_THREADS", 8))
timeout = 60
graceful_timeout = 30
keepalive = 5
# A process is replaced after this many requests (plus jitter), so none grows for ever.
max_requests = 5000
max_requests_jitter = 500
# Only the proxy may say the request came over TLS (X-Forwarded-Proto): its address here.
forwarded_allow_ips = os.environ.get("BEATDESK_PROXY_ADDRESSES", "127.0.0.1,::1")
accesslog = "-"
errorlog = "-"
# Request and sign-in data are personal data: the access log keeps no query strings.
access_log_format = '%(h)s "%(m)s %(U)s %(H)s" %(s)s %(B)s %(M)sms'
