"""The engine on a real (tiny) bundle and real motion: shapes, determinism, joins, and bad input."""

import numpy as np
import pytest

from engine import generation
from engine.description import compose_sentence, describe_from_similarities
from engine.errors import EngineInputError, MotionFormatError
from engine.motion import Motion


def test_crossfade_blends_linearly_and_keeps_length():
    chunks = np.stack([np.zeros((10, 2)), np.ones((10, 2))]).astype(np.float32)
    starts = generation.window_starts(16, 10, 4)
    assert starts == [0, 6]
    out = generation.crossfade(chunks, starts, 16, 4)
    assert out.shape == (16, 2)
    np.testing.assert_allclose(out[:6], 0.0)
    np.testing.assert_allclose(out[6:10, 0], [0.2, 0.4, 0.6, 0.8], atol=1e-6)
    np.testing.assert_allclose(out[10:], 1.0)


def test_seconds_are_checked():
    assert generation.frame_count(4.0, 30.0) == 120
    for bad in (0, -1.0, float("nan"), float("inf"), generation.MAX_SECONDS + 1, "4", None):
        with pytest.raises(EngineInputError):
            generation.frame_count(bad, 30.0)


def test_sentence_from_best_labels():
    bank = [
        {"text": "someone walks", "content": "bandai-1/walk", "style": "bandai-1/normal"},
        {"text": "a proud stride", "content": "bandai-1/walk", "style": "bandai-1/proud"},
        {"text": "a kick", "content": "bandai-1/kick", "style": "bandai-1/angry"},
    ]
    description = describe_from_similarities(np.array([0.9, 0.7, 0.8]), bank, top_k=2)
    assert [text for text, _ in description] == ["someone walks", "a kick"]
    assert description.sentence == "A person walks."  # style "normal" has the best score and no adverb
    assert compose_sentence("bandai-1/walk", "bandai-1/proud") == "A person walks proudly."
    assert compose_sentence("spin-jump", "dreamy") == "A person performs spin-jump in a dreamy way."


@pytest.fixture(scope="module")
def engine(tiny_bundle):
    from engine import Engine

    return Engine(tiny_bundle)


@pytest.fixture(scope="module")
def dance(cmu_dir):
    from engine import load_motion

    return load_motion(cmu_dir / "05_07.bvh")



@pytest.mark.slow
def test_embeddings_are_normalised(engine, dance):
    texts = engine.embed_text(["a person walks proudly", "someone dances ballet"])
    assert texts.shape == (2, engine.manifest["dims"]["shared"]) and texts.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(texts, axis=1), 1.0, atol=1e-5)
    motion = engine.embed_motion(dance)
    assert motion.shape == (engine.manifest["dims"]["shared"],)
    assert np.linalg.norm(motion) == pytest.approx(1.0, abs=1e-5)


@pytest.mark.slow
def test_describe_real_clip(engine, dance):
    description = engine.describe(dance, top_k=3)
    assert len(description) == 3
    scores = [score for _, score in description]
    assert scores == sorted(scores, reverse=True)
    assert description.sentence.startswith("A person ") and description.sentence.endswith(".")
    assert description.to_dict()["matches"][0]["text"] == description[0][0]


@pytest.mark.slow
def test_generate_is_deterministic_and_long_motion_joins_smoothly(engine):
    a = engine.generate("a person walks proudly", seconds=10.0, seed=7, n=2)
    b = engine.generate("a person walks proudly", seconds=10.0, seed=7, n=2)
    c = engine.generate("a person walks proudly", seconds=10.0, seed=8, n=1)
    assert [m.frames for m in a] == [300, 300]
    assert all(np.array_equal(x.positions, y.positions) for x, y in zip(a, b))
    assert not np.array_equal(a[0].positions, c[0].positions)
    assert not np.array_equal(a[0].positions, a[1].positions)
    # Chained windows: no step between frames at a join is much larger than the steps inside windows.
    steps = np.linalg.norm(np.diff(a[0].positions, axis=0), axis=-1).max(axis=1)
    assert steps.max() < 5 * np.percentile(steps, 95) + 1e-3


@pytest.mark.slow
def test_interpolate_between_prompt_and_motion(engine, dance):
    path = engine.interpolate("a person walks", dance, steps=3)
    assert [m.meta["t"] for m in path] == [0.0, 0.5, 1.0]
    assert all(m.frames == engine.window for m in path)
    with pytest.raises(EngineInputError):
        engine.interpolate("a", 3, steps=3)


@pytest.mark.slow
def test_bad_prompts(engine):
    for bad in ("", "   \n", ["fine", ""], [], None):
        with pytest.raises(EngineInputError):
            engine.embed_text(bad if isinstance(bad, list) else [bad])
    with pytest.raises(EngineInputError, match="no word the text encoder knows"):
        engine.generate("😀😀")
    with pytest.warns(UserWarning, match="limit of 64 tokens"):
        motions = engine.generate("dance " * 2000)
    assert "limit of" in motions[0].meta["notes"][0]
    assert engine.generate("une personne danse joyeusement")[0].frames == 120  # accepted, English model
    for seconds in (0, -2, 1e9):
        with pytest.raises(EngineInputError):
            engine.generate("walk", seconds=seconds)
    for n in (0, 1000, 1.5):
        with pytest.raises(EngineInputError):
            engine.generate("walk", n=n)


@pytest.mark.slow
def test_bad_motions(engine, dance):
    with pytest.raises(EngineInputError, match="needs at least"):
        engine.describe(dance.slice(0, engine.min_frames - 1))
    assert engine.embed_motion(dance.slice(0, engine.min_frames)).shape == (engine.manifest["dims"]["shared"],)
    broken = Motion(dance.positions.copy())
    broken.positions[5, 3, 1] = np.nan
    with pytest.raises(MotionFormatError, match="NaN"):
        engine.describe(broken)
    with pytest.raises(EngineInputError):
        engine.describe(dance.positions)


@pytest.mark.slow
def test_save_bvh_reads_back(engine, tmp_path):
    from engine import load_motion

    motion = engine.generate("a person waves the right hand", seconds=2.0)[0]
    engine.save_bvh(motion, tmp_path / "wave.bvh")
    back = load_motion(tmp_path / "wave.bvh")
    assert back.frames == motion.frames
    np.testing.assert_allclose(back.positions, motion.positions, atol=1e-3)
