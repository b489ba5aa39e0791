"""A user's own files named by s3:// URI in a component's config, fetched once into the run folder.

A pod has no copy of the user's data or weights, so every file-valued setting of a component
(`data.path`, `data.file`, `data.source`, `data.sources[...]`, `data.graph`, `init_from`, llm's
`model.model_name_or_path`, ...) also takes `s3://bucket/key`: an object, or a folder of objects
(a key prefix). This module is the one place that turns such a URI into a local path, so the
loaders keep reading plain files. Each download lands under `<cache>/<bucket>/<key>` by an atomic
rename, with `<name>.sha256` beside it holding the checksum of what was downloaded; a rerun (a
restarted pod that kept its folder, or a resumed run) whose copy still matches its checksum reads
it without asking the store again. A malformed URI or a missing object is one line naming the
setting (UsageError, exit 2); an outage is the store's TransientFailure.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from astrobio.errors import UsageError
from astrobio.store.artifacts import sha256_file
from astrobio.store.base import ArtifactStore, KeyNotFound
from astrobio.store.factory import open_store, parse_s3_uri
from astrobio.store.keys import validate_key

SCHEME = "s3://"
SUFFIX = ".sha256"


def _digests(path: Path) -> dict[str, str]:
    files = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file())
    return {p.relative_to(path).as_posix() if p != path else ".": sha256_file(p) for p in files}


def _cached(dest: Path) -> bool:
    """Whether `dest` holds an earlier download intact (its checksums file matches)."""
    record = dest.parent / (dest.name + SUFFIX)
    if not dest.exists() or not record.is_file():
        return False
    try:
        return json.loads(record.read_text()) == _digests(dest)
    except ValueError:
        return False


def _download(store: ArtifactStore, key: str, tmp: Path, setting: str, uri: str) -> None:
    """The object `key` to the file `tmp`, or every object under the folder `key` into the folder `tmp`."""
    try:
        store.get_file(key, tmp)
        return
    except KeyNotFound:
        pass  # not an object: perhaps a folder (key prefix)
    keys = store.list(key)
    if not keys:
        raise UsageError(f"{setting}: no object or folder {uri} in the store ({store.describe()}); "
                         f"expected s3://bucket/key of an uploaded file")
    for found in keys:
        store.get_file(found, tmp / found[len(key) + 1:])


def fetch_user_file(uri: str, setting: str, env: Mapping[str, str], cache: Path,
                    say: Callable[[str], None] = lambda _: None) -> Path:
    """The local copy of the object or folder `uri` (named by the config `setting` in errors)."""
    try:
        bucket, key = parse_s3_uri(uri)
        validate_key(key)
    except UsageError as exc:
        raise UsageError(f"{setting}: {exc}") from None
    dest = cache / bucket / key
    if _cached(dest):
        return dest
    store = open_store(f"{SCHEME}{bucket}", env)
    tmp = dest.parent / f".tmp-{dest.name}-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.parent.mkdir(parents=True, exist_ok=True)
    try:
        _download(store, key, tmp, setting, uri)
        digests = _digests(tmp)
        if dest.is_dir():  # a stale or damaged earlier copy of a folder (a file is simply replaced)
            shutil.rmtree(dest)
        try:
            os.replace(tmp, dest)
        except OSError:  # another local rank placed the same folder first: theirs is as good
            if not dest.exists():
                raise
    finally:
        if tmp.is_dir():
            shutil.rmtree(tmp, ignore_errors=True)
        elif tmp.exists():
            tmp.unlink()
    (dest.parent / (dest.name + SUFFIX)).write_text(json.dumps(digests, indent=1, sort_keys=True))
    say(f"fetched {uri} -> {dest} (sha256 {digests.get('.', 'per file in ' + dest.name + SUFFIX)})")
    return dest


def localize(value: Any, setting: str, fetch: Callable[[str, str], Path]) -> Any:
    """`value` (a config subtree) with every s3:// string replaced by the path `fetch(uri, setting)` gives."""
    if isinstance(value, str) and value.startswith(SCHEME):
        return str(fetch(value, setting))
    if isinstance(value, dict):
        return {k: localize(v, f"{setting}.{k}", fetch) for k, v in value.items()}
    if isinstance(value, list):
        return [localize(v, f"{setting}[{i}]", fetch) for i, v in enumerate(value)]
    return value


def localize_section(section: Any, setting: str, env: Mapping[str, str], cache: Path,
                     say: Callable[[str], None] = lambda _: None) -> Any:
    """A copy of the pydantic config `section` (named `setting`, e.g. `components.causal`) whose
    s3:// file settings name local copies; `section` itself when it has none."""
    tree = section.model_dump(mode="json")
    local = localize(tree, setting, lambda uri, where: fetch_user_file(uri, where, env, cache, say))
    return section if local == tree else type(section).model_validate(local)
