"""What the reference checks share: running their psql script, and their command line."""
import argparse
import os
import subprocess
import sys


def psql(url, lines):
    """Runs a script of psql lines (each check rolls its own transaction back), floats exact."""
    env = dict(os.environ, PGOPTIONS="-c extra_float_digits=1")
    return subprocess.run(["psql", url, "-X", "-q", "-A", "-t", "-f", "-"], input="\n".join(lines) + "\n",
                          capture_output=True, text=True, env=env)


def main(run, doc):
    """`--database-url URL` (default $DATABASE_URL), then exit with what run(url) returns."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL"))
    args = parser.parse_args()
    if not args.database_url:
        parser.error("give --database-url (or set DATABASE_URL)")
    sys.exit(run(args.database_url))
