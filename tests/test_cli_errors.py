"""Bad input through the real CLI: one line naming the field/file, exit 2, nothing damaged."""

from __future__ import annotations

from pathlib import Path

from tests.cli_helpers import SMOKE, assert_one_line_error, run_cli


def test_unknown_component():
    assert_one_line_error(run_cli("train", "-c", "graph_vea", "--config", str(SMOKE)), 2, "graph_vea", "graph_vae")


def test_missing_config_file(tmp_path):
    assert_one_line_error(run_cli("train", "-c", "graph_vae", "--config", str(tmp_path / "nope.yaml")), 2,
                          "nope.yaml", "not found")


def test_malformed_config_file(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("trainer:\n  max_steps: [1\n")
    assert_one_line_error(run_cli("config", "show", "--config", str(bad)), 2, "bad.yaml", "invalid YAML at line")


def test_unknown_key_suggests_closest():
    assert_one_line_error(run_cli("config", "show", "--set", "trainer.max_step=3"), 2,
                          "trainer.max_step", "did you mean 'trainer.max_steps'")


def test_wrong_type_names_field(tmp_path):
    out = tmp_path / "out"
    proc = run_cli("train", "-c", "graph_vae", "--config", str(SMOKE), "--output", str(out), "--set", "optim.lr=fast")
    assert_one_line_error(proc, 2, "optim.lr", "valid number", "'fast'")
    assert not out.exists()  # validation happens before anything is written


def test_bad_override_syntax():
    assert_one_line_error(run_cli("config", "show", "--set", "optim.lr"), 2, "KEY=VALUE")


def test_unreadable_sbml_names_file(tmp_path):
    sbml = tmp_path / "broken.xml"
    sbml.write_text("<sbml><not closed")
    proc = run_cli("train", "-c", "graph_vae", "--config", str(SMOKE), "--output", str(tmp_path / "o"),
                   "--set", f"components.graph_vae.data.sources=[{sbml}]")
    assert_one_line_error(proc, 2, "broken.xml")


def test_missing_sbml_names_file(tmp_path):
    proc = run_cli("train", "-c", "graph_vae", "--config", str(SMOKE), "--output", str(tmp_path / "o"),
                   "--set", f"components.graph_vae.data.sources=[{tmp_path / 'absent.xml'}]")
    assert_one_line_error(proc, 2, "absent.xml")


def test_debug_shows_traceback():
    proc = run_cli("config", "show", "--set", "trainer.max_step=3", "--debug")
    assert proc.returncode == 2 and "Traceback" in proc.stderr


def test_unknown_command_is_usage_error():
    assert run_cli("fly").returncode == 2


def test_existing_outputs_survive_a_bad_rerun(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    keep = out / "config.yaml"
    keep.write_text("precious\n")
    proc = run_cli("train", "-c", "graph_vae", "--config", str(SMOKE), "--output", str(out), "--set", "trainer.max_steps=0")
    assert_one_line_error(proc, 2, "trainer.max_steps")
    assert keep.read_text() == "precious\n"


def test_config_show_prints_resolved_yaml():
    proc = run_cli("config", "show", "--config", str(SMOKE), "--set", "optim.lr=3e-4")
    assert proc.returncode == 0, proc.stderr
    assert "lr: 0.0003" in proc.stdout and "graph_vae:" in proc.stdout


def test_components_lists_graph_vae():
    proc = run_cli("components")
    assert proc.returncode == 0 and "graph_vae" in proc.stdout
