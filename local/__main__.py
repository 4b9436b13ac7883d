"""`python -m local` (make run): the whole help desk on this machine until Ctrl-C."""
from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import warnings
from pathlib import Path

from local.stack import ROOT, AlreadyRunning, LocalStack


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m local", description=__doc__)
    parser.add_argument("--http-port", type=int, default=int(os.environ.get("HELPDESK_HTTP_PORT", 8080)),
                        help="API and web UI on 127.0.0.1 (default 8080, or HELPDESK_HTTP_PORT)")
    parser.add_argument("--smtp-port", type=int, default=int(os.environ.get("HELPDESK_SMTP_PORT", 2525)),
                        help="SMTP (the SES inbound stand-in) on 127.0.0.1 (default 2525, or HELPDESK_SMTP_PORT)")
    parser.add_argument("--data-dir", type=Path, default=ROOT / ".local",
                        help="where PostgreSQL data, tokens, the Maildir and the dev clock live (default .local/)")
    parser.add_argument("--sweep-interval", type=float, default=30.0, help="seconds between sweep runs")
    parser.add_argument("--keep-postgres", action="store_true",
                        help="leave the embedded PostgreSQL running after exit (faster next start)")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logs (every HTTP request, SQL client calls)")
    args = parser.parse_args(argv)

    warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO,
                        format="%(asctime)s %(levelname)-7s %(name)s: %(message)s", datefmt="%H:%M:%S")
    for noisy in ("botocore", "boto3", "urllib3", "werkzeug", "pgserver", "mail.log"):
        logging.getLogger(noisy).setLevel(logging.WARNING)

    stack = LocalStack(ROOT, http_port=args.http_port, smtp_port=args.smtp_port, data_dir=args.data_dir,
                       sweep_interval=args.sweep_interval, keep_postgres=args.keep_postgres)
    # Ctrl-C even when started from a shell that ignores SIGINT for background jobs; SIGTERM
    # (kill, test harness) stops as cleanly as Ctrl-C.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    try:
        stack.start()
    except AlreadyRunning as exc:
        print(f"\n{exc}\n", file=sys.stderr)
        return 3
    except KeyboardInterrupt:
        print("interrupted while starting; stopped", file=sys.stderr)
        return 130
    except Exception as exc:  # a migration or seed that fails: say what, keep the traceback for the curious
        logging.getLogger("local").exception("the local stack could not start")
        print(f"\nThe local stack could not start: {type(exc).__name__}: {exc}\n"
              f"Everything it had started is stopped again. If a migration changed after it was applied,"
              f" reset the local data: rm -rf {args.data_dir}\n", file=sys.stderr)
        return 1
    print(f"\n  Helpdesk is running: {stack.url}  (sign in with a token from {stack.tokens_path})"
          f"\n  SMTP: {stack.host}:{stack.smtp_port}   outbound mail: {stack.maildir_path}"
          f"\n  Ctrl-C to stop.\n", flush=True)
    try:
        stack.wait()
    except KeyboardInterrupt:
        print("\nstopping...", file=sys.stderr, flush=True)
    finally:
        stack.stop()
    print("stopped.", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
