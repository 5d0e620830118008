"""K-means labels for unlabelled motion: the sweep, representatives, and names a person gives."""

import numpy as np
import pytest

from training import cluster


@pytest.fixture(scope="module")
def blobs():
    rng = np.random.default_rng(0)
    centres = np.array([[0.0, 0.0, 0.0], [6.0, 0.0, 0.0], [0.0, 6.0, 0.0]])
    labels = np.repeat(np.arange(3), 40)
    return centres[labels] + rng.normal(0, 0.5, (120, 3)), labels


def test_silhouette_sweep_finds_the_number_of_groups(blobs, tmp_path):
    points, _ = blobs
    scores = cluster.silhouette_sweep(points, 2, 6, seed=0)
    assert sorted(scores) == [2, 3, 4, 5, 6]
    assert cluster.best_k(scores) == 3
    cluster.plot_sweep(scores, 3, tmp_path / "sweep.png")
    assert (tmp_path / "sweep.png").stat().st_size > 1000


def test_clusters_match_groups_and_representatives_are_central(blobs):
    points, truth = blobs
    assignment, centroids = cluster.fit_clusters(points, 3, seed=0)
    # Same partition as the truth (up to renaming).
    assert len({(a, t) for a, t in zip(assignment, truth)}) == 3
    reps = cluster.representatives(points, assignment, centroids, 2)
    for c, rows in reps.items():
        d = ((points[assignment == c] - centroids[c]) ** 2).sum(1)
        assert len(rows) == 2 and ((points[rows[0]] - centroids[c]) ** 2).sum() == pytest.approx(d.min())
    # With groups (clip ids) no two representatives come from one group.
    groups = np.arange(len(points)) // 2
    for rows in cluster.representatives(points, assignment, centroids, 3, groups).values():
        assert len({groups[r] for r in rows}) == len(rows) == 3
    assert (cluster.assign(points, centroids) == assignment).all()


def test_names_template_round_trip_and_propagation(tmp_path):
    path = tmp_path / "names.toml"
    cluster.write_names_template(path, 3, {0: ["a@0.0s"], 1: [], 2: ["b@1.0s", "c@2.0s"]})
    assert "b@1.0s, c@2.0s" in path.read_text()
    assert cluster.read_names(path, 3) == {0: "cluster-0", 1: "cluster-1", 2: "cluster-2"}
    path.write_text('0 = "slow spin"\n2 = "jump"\n')
    names = cluster.read_names(path, 3)
    assert names == {0: "slow spin", 1: "cluster-1", 2: "jump"}
    assert cluster.propagate(np.array([2, 0, 0, 1]), names) == ["jump", "slow spin", "slow spin", "cluster-1"]
    (tmp_path / "names.json").write_text('{"1": "bow"}')
    assert cluster.read_names(tmp_path / "names.json", 2)[1] == "bow"
    path.write_text('5 = "nothing"\n')
    with pytest.raises(ValueError, match="cluster 5"):
        cluster.read_names(path, 3)
