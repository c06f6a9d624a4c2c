"""Training: SFT data preparation, the single Trainer-based training path, training curves."""

from lemma.training.finetune import TrainParams, is_complete, train

__all__ = ["TrainParams", "is_complete", "train"]
