"""Window sets: counts, train-split normalization, labels, augmented batches, captions, variable crops."""

import numpy as np
import pytest

from engine.features import FEATURE_DIM, NormStats, motion_to_features
from tests.test_features import walking_motion
from training.augment import AugmentConfig
from training.corpus import Clip, load_bandai
from training.windows import label_vocabulary, pad, prepare


def _clips() -> list[Clip]:
    clips = []
    for i in range(20):
        content = ("walk-turn-left", "walk-turn-right", "wave-both-hands")[i % 3]
        motion = walking_motion(frames=60 + 7 * i, turn=0.02 if "left" in content else -0.02)
        clips.append(Clip(f"take_{i:02d}", "bandai-2", motion, content, ("active", "normal")[i % 2]))
    clips.append(Clip("short", "cmu-dance", walking_motion(frames=40), "salsa", description="salsa dance"))
    return clips


@pytest.fixture(scope="module")
def prepared():
    return prepare(_clips(), length=50, stride=20, seed=1)


def test_windows_cover_each_clip_at_the_stride(prepared):
    for part in prepared.splits.values():
        for i, clip in enumerate(part.clips):
            expected = max(0, (clip.motion.frames - 50) // 20 + 1)
            assert (part.clip_index == i).sum() == expected
        assert part.features.shape == (len(part), 50, FEATURE_DIM) and part.features.dtype == np.float32
    assert sum(len(p.clips) for p in prepared.splits.values()) == 21


def test_normalization_is_fitted_on_the_train_split_only(prepared):
    train = prepared.train
    expected = NormStats.fit([motion_to_features(c.motion) for c in train.clips])
    np.testing.assert_allclose(prepared.norm.mean, expected.mean, atol=1e-6)
    i = len(train) // 2
    clip = train.clips[train.clip_index[i]]
    raw = motion_to_features(clip.motion)[train.start[i] : train.start[i] + 50]
    np.testing.assert_allclose(prepared.norm.denormalize(train.features[i]), raw, atol=1e-4)


def test_labels_are_namespaced_and_include_mirror_images(prepared):
    labels = prepared.labels
    assert "bandai-2/walk-turn-left" in labels["content"] and "cmu-dance/salsa" in labels["content"]
    assert labels["style"] == ["bandai-2/active", "bandai-2/normal"]
    train = prepared.train
    assert (train.content_ids >= 0).all()
    assert [labels["content"][k] for k in train.content_ids[:5]] == list(train.content[:5])
    assert label_vocabulary([Clip("a", "x", walking_motion(5), "wave-left-hand")])["content"] == [
        "x/wave-left-hand", "x/wave-right-hand"
    ]  # fmt: skip


def test_augmented_batches_are_seeded_and_swap_labels_when_mirrored(prepared):
    train = prepared.train
    indices = np.arange(len(train))
    a = train.augmented(indices, np.random.default_rng(7))
    b = train.augmented(indices, np.random.default_rng(7))
    np.testing.assert_array_equal(a.features, b.features)
    assert a.features.shape == train.features.shape and np.isfinite(a.features).all()
    assert 0 < a.mirrored.sum() < len(indices)
    for k in np.flatnonzero(a.mirrored):
        original = train.content[k]
        swapped = original.replace("left", "@").replace("right", "left").replace("@", "right")
        assert a.content[k] == swapped and prepared.labels["content"][a.content_ids[k]] == swapped
    plain = train.augmented(indices, np.random.default_rng(0), AugmentConfig.none())
    np.testing.assert_allclose(plain.features, train.features, atol=1e-5)


def test_captions_follow_the_split(prepared):
    rng = np.random.default_rng(3)
    held_out_openers = ("This motion", "In this clip", "Here,")
    val = prepared.val
    assert len(val) > 0
    for text in val.captions(np.arange(len(val)), rng):
        assert text.startswith(held_out_openers)
    train = prepared.train
    assert not any(t.startswith(held_out_openers) for t in train.captions(np.arange(len(train)), rng))
    # After mirroring, captions speak of the other side.
    batch = train.augmented(np.arange(len(train)), rng, AugmentConfig(mirror_probability=1.0))
    flagged = train.captions(np.arange(len(train)), rng, batch.mirrored)
    for original, text, again in zip(train.content, batch.captions(rng), flagged):
        if original.endswith("turn-left"):
            assert "right" in text and "left" not in text and "right" in again and "left" not in again


def test_variable_length_crops_and_padding(prepared):
    crops = prepared.train.crops(np.random.default_rng(0), min_frames=20, max_frames=80, count=12)
    assert len(crops) == 12 and len(crops.clip_index) == 12
    for crop, i in zip(crops.features, crops.clip_index):
        assert 20 <= len(crop) <= min(80, prepared.train.clips[i].motion.frames)
    batch, mask = pad(crops.features)
    assert batch.shape == (12, max(len(c) for c in crops.features), FEATURE_DIM)
    assert mask.sum() == sum(len(c) for c in crops.features) and not batch[~mask].any()
    augmented = prepared.train.crops(np.random.default_rng(0), 20, 80, config=AugmentConfig(mirror_probability=1.0))
    assert len(augmented) == len(prepared.train.clips) and augmented.mirrored.all()
    originals = [clip.content_label for clip in prepared.train.clips]
    assert all(a.count("left") == o.count("right") for a, o in zip(augmented.content, originals))
    assert len(augmented.captions(np.random.default_rng(1))) == len(augmented)


def test_real_clips_make_windows(bandai1):
    clips = load_bandai(bandai1, limit=4)
    prepared = prepare(clips, length=50, stride=20, ratios=(1.0, 0.0, 0.0))
    assert len(prepared.train) == sum((c.motion.frames - 50) // 20 + 1 for c in clips)
    assert abs(float(prepared.train.features.mean())) < 0.5


def test_previews_and_report(tmp_path, capsys):
    from PIL import Image

    from training import report
    from training.plots import save_gif, save_grid

    motions = [walking_motion(frames=45), walking_motion(frames=30, turn=-0.05)]
    grid = save_grid(motions, tmp_path / "grid.png", columns=4)
    assert Image.open(grid).size[0] > 300
    gif = Image.open(save_gif(motions, tmp_path / "walk.gif", fps=10.0))
    assert gif.n_frames == 15  # the longer motion, 1.5 s at 10 fps

    assert report.main(["--config", "tiny", "--out", str(tmp_path / "report")]) == 0
    out = capsys.readouterr().out
    for dataset in ("bandai-1", "bandai-2", "cmu-dance"):
        assert f"train  {dataset}" in out and f"  {dataset} content" in out
    assert "val captions:" in out
    assert (tmp_path / "report" / "preview.png").stat().st_size > 10_000
    assert Image.open(tmp_path / "report" / "preview.gif").n_frames > 10
