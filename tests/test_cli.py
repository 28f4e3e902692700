import json
import subprocess
import sys

import pytest

from mnist_explore.cli import main
from mnist_explore.figures import recipes


def test_unknown_figure_name_lists_the_valid_ones(capsys):
    assert main(["figures", "--only", "data_nope"]) == 2
    err = capsys.readouterr().err.strip()
    assert "Unknown figure name(s) data_nope" in err and "data_class_means" in err
    assert len(err.splitlines()) == 1


def test_unknown_profile_lists_the_valid_ones(capsys):
    with pytest.raises(SystemExit) as info:
        main(["figures", "--profile", "huge"])
    assert info.value.code == 2
    err = capsys.readouterr().err.splitlines()[-1]  # argparse's quoting of the choices varies by Python version
    assert "invalid choice: 'huge'" in err and all(p in err for p in ("quick", "default", "full"))


def test_bad_device_is_one_sentence(capsys, tmp_path):
    assert main(["figures", "--only", "data_class_means", "--device", "tpu", "--out", str(tmp_path)]) == 2
    assert "Unknown device 'tpu'" in capsys.readouterr().err


def test_list_names_every_recipe(capsys):
    assert main(["figures", "--list"]) == 0
    out = capsys.readouterr().out
    assert all(name in out for name in recipes())


def test_render_writes_png_and_manifest_and_keeps_earlier_entries(tmp_path):
    assert main(["figures", "--only", "data_class_means", "--profile", "quick", "--out", str(tmp_path)]) == 0
    assert main(["figures", "--only", "data_pixel_std", "--profile", "quick", "--seed", "3",
                 "--out", str(tmp_path)]) == 0
    assert (tmp_path / "data_class_means.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    entries = {e["name"]: e for e in json.loads((tmp_path / "MANIFEST.json").read_text())["figures"]}
    assert set(entries) == {"data_class_means", "data_pixel_std"}
    entry = entries["data_pixel_std"]
    assert set(entry) == {"name", "file", "profile", "device", "seed", "version", "seconds"}
    assert (entry["file"], entry["profile"], entry["device"], entry["seed"]) == ("data_pixel_std.png", "quick", "cpu", 3)


def test_unreadable_manifest_is_replaced_with_a_warning(tmp_path):
    (tmp_path / "MANIFEST.json").write_text("{ not json")
    with pytest.warns(UserWarning, match="unreadable"):
        assert main(["figures", "--only", "data_samples", "--profile", "quick", "--out", str(tmp_path)]) == 0
    assert [e["name"] for e in json.loads((tmp_path / "MANIFEST.json").read_text())["figures"]] == ["data_samples"]


def test_python_dash_m_entry_point(tmp_path):
    result = subprocess.run([sys.executable, "-m", "mnist_explore", "figures", "--only", "nope"],
                            capture_output=True, text=True)
    assert result.returncode == 2 and result.stderr.startswith("mnist-explore: error: Unknown figure name(s) nope")
