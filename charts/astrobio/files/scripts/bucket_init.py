"""Bucket-init hook of the astrobio chart: create each bucket named on the command line if absent.

Idempotent (an existing bucket is left as it is) and reads the store exactly as training does
(astrobio.store, endpoint and keys from the Secret-backed environment), so a green run of this Job
also proves the credentials pods will use. Waits for a store that is still starting (the bundled
MinIO comes up alongside this Job); a refused credential or TLS mismatch fails at once.
"""

import os
import sys
import time

from astrobio.errors import UsageError
from astrobio.store.factory import open_store

WAIT_S = float(os.environ.get("BUCKET_INIT_WAIT_S", "600"))
RETRY_S = 10.0


def ensure(bucket: str, deadline: float) -> None:
    while True:
        try:
            created = open_store(f"s3://{bucket}", os.environ).ensure_bucket()
        except UsageError as exc:  # wrong keys, TLS mismatch, bad name: retrying cannot help
            sys.exit(f"bucket {bucket}: {exc}")
        except Exception as exc:  # noqa: BLE001 - store not reachable yet
            if time.monotonic() >= deadline:
                sys.exit(f"bucket {bucket}: store still unreachable after {WAIT_S:.0f} s: {exc}")
            print(f"bucket {bucket}: store not ready ({str(exc).splitlines()[0]}); retrying in {RETRY_S:.0f} s", flush=True)
            time.sleep(RETRY_S)
            continue
        print(f"bucket {bucket}: {'created' if created else 'already exists'}", flush=True)
        return


def main(buckets: list[str]) -> None:
    if not buckets:
        sys.exit("usage: bucket_init.py BUCKET [BUCKET ...]")
    endpoint = os.environ.get("ASTROBIO_S3_ENDPOINT", "?")
    print(f"store {endpoint}: ensuring bucket(s) {', '.join(buckets)}", flush=True)
    deadline = time.monotonic() + WAIT_S
    for bucket in buckets:
        ensure(bucket, deadline)
    print("done", flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
