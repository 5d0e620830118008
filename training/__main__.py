"""``python -m training COMMAND ...``: one command per stage, each a thin layer over importable functions."""

import sys
from engine.cli import dispatch

# command -> (module with a ``main(argv)``, one-line help)
COMMANDS = {
    "report": ("training.report", "summarise the data (clips, frames, windows, labels) and draw previews"),
    "train": ("training.pipeline", "the whole pipeline: every stage below in order, skipping finished ones"),
    "data": ("training.stages.data", "stage: load, split and window the corpus; norm stats and labels"),
    "vae": ("training.stages.vae", "stage: motion VAE (LSTM+attention encoder, residual GRU decoder)"),
    "cluster": ("training.stages.cluster", "stage / any dataset (--data): K-means labels, previews to name"),
    "align": ("training.stages.align", "stage: shared motion-text space (symmetric InfoNCE or triplet)"),
    "text": ("training.stages.text", "stage: text latent head (MiniLM sentence -> motion VAE latent)"),
    "t2m": ("training.stages.t2m", "stage: text-to-motion decoder fine-tuned from the VAE decoder"),
    "bank": ("training.stages.bank", "stage: description bank and generation parameters"),
    "evaluate": ("training.evaluate", "stage: metrics per dataset (retrieval, description, generation)"),
}


def main(argv: list[str] | None = None) -> int:
    return dispatch("training", COMMANDS, argv)


if __name__ == "__main__":
    sys.exit(main())
