"""``Engine``: text to motion and motion to text from a model bundle, with onnxruntime on the CPU.

Threads: onnxruntime uses ``threads`` intra-op threads per session, 1 by default. One thread meets the
latency targets (a prompt to 4 s of motion in a few milliseconds), gives the same numbers on every call, and
leaves Blender's own threads alone; batch jobs may pass more.

Sessions are created on first use, not in ``Engine(...)``: ``describe`` never needs the text encoder (the
bank's embeddings ship precomputed), so the add-on's first description does not pay for loading MiniLM.
``warm_up()`` creates them all at once (the benchmark prints the cost).

Motions are encoded in the model's windows (``manifest["window"]``): a clip longer than one window is cut
into windows every ``stride`` frames plus one flush with its end, and its embedding is the normalised mean
of theirs. A clip no longer than one window is encoded whole (the encoder reads any length); one shorter
than ``min_frames`` is refused, as there is too little movement in it to describe.
"""

from __future__ import annotations

import warnings
from functools import cached_property
from pathlib import Path

import numpy as np
import onnxruntime as ort

from . import generation
from .bundle import load_bundle
from .description import Description, describe_from_similarities
from .errors import EngineInputError
from .features import NormStats, features_to_motion, motion_to_features, remove_foot_sliding
from .motion import Motion
from .text import TextEncoder, TextEncoding, TextTokenizer

DEFAULT_THREADS = 1
MAX_THREADS = 64
MAX_INTERPOLATION_STEPS = 64


def open_session(path: Path, threads: int) -> ort.InferenceSession:
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.log_severity_level = 3  # onnxruntime's own warnings are for its developers, not our users
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def window_ranges(frames: int, length: int, stride: int) -> list[tuple[int, int]]:
    """Windows covering a clip: every ``stride`` frames, plus one flush with the end; one for short clips."""
    if frames <= length:
        return [(0, frames)]
    starts = list(range(0, frames - length + 1, stride))
    if starts[-1] + length < frames:
        starts.append(frames - length)
    return [(s, s + length) for s in starts]


def mean_embedding(embeddings: np.ndarray) -> np.ndarray:
    """float32 [D]: the L2-normalised mean of [k, D] embeddings (a clip's embedding from its windows')."""
    mean = embeddings.mean(axis=0)
    return (mean / np.linalg.norm(mean)).astype(np.float32)


class Engine:
    def __init__(self, bundle_dir: str | Path, threads: int = DEFAULT_THREADS, verify: bool = True):
        self.threads = generation.check_count("threads", threads, 1, MAX_THREADS)
        self.bundle = load_bundle(bundle_dir, verify_hashes=verify)
        self.manifest = self.bundle.manifest
        self.fps = float(self.manifest["fps"])
        window = self.manifest["window"]
        self.window, self.stride = int(window["length"]), int(window["stride"])
        self.min_frames = int(window["min_frames"])
        self.norm = NormStats.from_dict(self.manifest["norm"])
        self.noise_scale = float(self.manifest["generation"]["noise_scale"])
        self._sessions: dict[str, ort.InferenceSession] = {}

    # ------------------------------------------------------------------ resources, created on first use
    def _session(self, role: str) -> ort.InferenceSession:
        if role not in self._sessions:
            self._sessions[role] = open_session(self.bundle.path(role), self.threads)
        return self._sessions[role]

    @cached_property
    def text_encoder(self) -> TextEncoder:
        tokenizer = TextTokenizer(self.bundle.path("tokenizer"), self.manifest["text"]["max_tokens"])
        return TextEncoder(tokenizer, self._session("text_encoder"))

    @cached_property
    def bank(self) -> tuple[list[dict], np.ndarray]:
        return self.bundle.bank()

    def warm_up(self) -> None:
        """Create every session and load the bank now rather than on first use."""
        for role in ("motion_encoder", "decoder"):
            self._session(role)
        self.text_encoder, self.bank  # noqa: B018 (cached properties: reading them loads them)

    # ------------------------------------------------------------------ text
    def encode_text(self, texts: list[str]) -> TextEncoding:
        """Shared-space embeddings, VAE latents and notes (truncation, unknown words) for prompts."""
        encoding = self.text_encoder(texts)
        for note in encoding.notes:
            warnings.warn(note, stacklevel=3)
        return encoding

    def embed_text(self, texts: list[str]) -> np.ndarray:
        """float32 [N, D] L2-normalised embeddings of prompts in the shared space."""
        return self.encode_text(texts).shared

    # ------------------------------------------------------------------ motion
    def motion_windows(self, motion: Motion) -> tuple[np.ndarray, list[tuple[int, int]]]:
        """Normalised feature windows [k, T, F] of a motion and their ``[start, end)`` ranges in its frames at
        the model's fps (see the module doc for the windowing)."""
        if not isinstance(motion, Motion):
            raise EngineInputError(f"expected a Motion, got {type(motion).__name__}")
        motion.validate()
        features = motion_to_features(motion)
        frames = len(features)
        if frames < self.min_frames:
            raise EngineInputError(
                f"{motion.name or 'the motion'} has {frames} frames at {self.fps:g} fps; the motion encoder needs "
                f"at least {self.min_frames} ({self.min_frames / self.fps:.2f} s)"
            )
        ranges = window_ranges(frames, self.window, self.stride)
        return self.norm.normalize(np.stack([features[start:end] for start, end in ranges])), ranges

    def _encode_windows(self, motion: Motion) -> tuple[np.ndarray, np.ndarray, list[tuple[int, int]]]:
        """Per window: shared-space embeddings [k, D], VAE means [k, Z]; and the window ranges."""
        windows, ranges = self.motion_windows(motion)
        shared, mu = self._session("motion_encoder").run(["motion_shared", "mu"], {"features": windows})
        return shared.astype(np.float32), mu, ranges

    def embed_windows(self, motion: Motion) -> tuple[np.ndarray, list[tuple[int, int]]]:
        """float32 [k, D] L2-normalised embeddings of the motion's model windows, and their ``[start, end)``
        frame ranges in the motion at the model's fps; ``embed_motion`` is their normalised mean."""
        shared, _, ranges = self._encode_windows(motion)
        return shared, ranges

    def encode_motion(self, motion: Motion) -> tuple[np.ndarray, np.ndarray]:
        """The motion's shared-space embedding [D] (normalised mean over windows) and mean VAE mean [Z]."""
        shared, mu, _ = self._encode_windows(motion)
        return mean_embedding(shared), mu.mean(axis=0).astype(np.float32)

    def embed_motion(self, motion: Motion) -> np.ndarray:
        """float32 [D] L2-normalised embedding of a motion in the shared space."""
        return self.encode_motion(motion)[0]

    def describe(self, motion: Motion, top_k: int = 5) -> Description:
        """The ``top_k`` nearest bank texts with cosine scores, and a sentence from the best labels."""
        entries, embeddings = self.bank
        top_k = generation.check_count("top_k", top_k, 1, len(entries))
        return describe_from_similarities(embeddings @ self.embed_motion(motion), entries, top_k)

    # ------------------------------------------------------------------ generation
    def _decode(self, z: np.ndarray, cond: np.ndarray, time: np.ndarray) -> np.ndarray:
        return self._session("decoder").run(["features"], {"z": z, "cond": cond, "time": time})[0]

    def _to_motions(self, features: np.ndarray, name: str, meta: list[dict]) -> list[Motion]:
        motions = []
        for i, sequence in enumerate(features):
            planted = remove_foot_sliding(self.norm.denormalize(sequence))  # decoded roots drift over planted feet
            motion = features_to_motion(planted, self.fps, f"{name} {i + 1}".strip())
            motion.meta.update(meta[i], model_version=self.manifest["model_version"])
            motions.append(motion)
        return motions

    def generate(self, text: str, seconds: float = 4.0, seed: int = 0, n: int = 1) -> list[Motion]:
        """``n`` motions of ``seconds`` for a prompt; the same seed gives the same motions, bit for bit."""
        if not isinstance(text, str):
            raise EngineInputError(f"prompt must be text, got {type(text).__name__}")
        frames = generation.frame_count(seconds, self.fps)
        n = generation.check_count("n", n, 1, generation.MAX_SAMPLES)
        seed = generation.check_count("seed", seed, 0, 2**63 - 1)
        encoding = self.encode_text([text])
        k = generation.window_count(frames, self.window)
        z = generation.sample_latents(encoding.latent[0], self.noise_scale, seed, n, k)
        cond = np.repeat(encoding.shared, n, axis=0)
        features = generation.decode_chained(self._decode, z, cond, frames, self.window)
        meta = [{"prompt": text.strip(), "seed": seed, "sample": i, "notes": encoding.notes} for i in range(n)]
        return self._to_motions(features, text.strip()[:40], meta)

    def _endpoint(self, item) -> tuple[np.ndarray, np.ndarray, str]:
        """(latent, condition, label) of a prompt or a motion."""
        if isinstance(item, str):
            encoding = self.encode_text([item])
            return encoding.latent[0], encoding.shared[0], item.strip()
        if isinstance(item, Motion):
            shared, mu = self.encode_motion(item)
            return mu, shared, item.name or "motion"
        raise EngineInputError(f"interpolation ends must be prompts or motions, got {type(item).__name__}")

    def interpolate(self, a, b, steps: int = 5, seconds: float | None = None) -> list[Motion]:
        """``steps`` motions along the latent path from ``a`` to ``b`` (prompts or motions), ends included.

        Latents are interpolated linearly and conditions on the sphere; no noise, so the path is smooth and
        repeatable. Each motion lasts ``seconds`` (default: one decoder window)."""
        steps = generation.check_count("steps", steps, 2, MAX_INTERPOLATION_STEPS)
        frames = self.window if seconds is None else generation.frame_count(seconds, self.fps)
        (z_a, c_a, name_a), (z_b, c_b, name_b) = self._endpoint(a), self._endpoint(b)
        k = generation.window_count(frames, self.window)
        ts = np.linspace(0.0, 1.0, steps)
        z = np.stack([(1 - t) * z_a + t * z_b for t in ts]).astype(np.float32)
        cond = np.stack([generation.slerp(c_a, c_b, t) for t in ts])
        z = np.repeat(z[:, None], k, axis=1)  # one latent per window, the same along the chain
        features = generation.decode_chained(self._decode, z, cond, frames, self.window)
        meta = [{"from": name_a, "to": name_b, "t": float(t)} for t in ts]
        return self._to_motions(features, "interpolation", meta)

    # ------------------------------------------------------------------ files
    @staticmethod
    def save_bvh(motion: Motion, path: str | Path) -> None:
        """Write a motion as BVH on the canonical skeleton (Blender's importer reads it)."""
        from .bvh import save_bvh

        save_bvh(motion, path)
