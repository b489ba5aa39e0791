"""One reader of an artifact's metrics.json with an explicit policy for a bad file: a pipeline step
and the report refuse it (strict), live progress and the run summary show nothing for it."""

from __future__ import annotations

import pytest

from astrobio.errors import RuntimeFailure
from astrobio.store import LocalStore, artifact_prefix
from astrobio.store.artifacts import read_metrics

PREFIX = artifact_prefix("r1", "pretrain", "graph_vae")


@pytest.mark.parametrize("strict", [True, False])
def test_metrics_are_read_and_a_missing_file_is_empty(tmp_path, strict: bool) -> None:
    store = LocalStore(tmp_path)
    assert read_metrics(store, PREFIX, strict=strict) == {}
    store.put_bytes(f"{PREFIX}/metrics.json", b'{"test_auc": 0.9, "baseline_cn_test_auc": 0.7}')
    assert read_metrics(store, PREFIX, strict=strict) == {"test_auc": 0.9, "baseline_cn_test_auc": 0.7}


@pytest.mark.parametrize(("raw", "message"), [(b"{not json", "is not valid JSON"),
                                               (b"\xff\xfe", "is not valid JSON"),
                                               (b"[1, 2]", "is not a JSON object")])
def test_a_bad_file_raises_when_strict_and_is_empty_otherwise(tmp_path, raw: bytes, message: str) -> None:
    store = LocalStore(tmp_path)
    store.put_bytes(f"{PREFIX}/metrics.json", raw)
    with pytest.raises(RuntimeFailure, match=message) as caught:
        read_metrics(store, PREFIX, strict=True)
    assert f"{PREFIX}/metrics.json" in str(caught.value)
    assert read_metrics(store, PREFIX, strict=False) == {}
