"""Fine-tuning face embeddings with FaceNet's online semi-hard triplets (see README.md here).

>>> from training.pipeline import FineTuneRequest, fine_tune
>>> result = fine_tune(FineTuneRequest(name="my-model", data=Path("lfw"),
...                                    eval_pairs=Path("lfw/pairsDevTest.txt")))

Small pieces: ``data`` (chips), ``augment``, ``sampler`` (P x K), ``miners``, ``loss``,
``evaluate``, ``loop`` (Trainer), ``models`` (bases, freezing), ``checkpoints``
(safetensors + JSON), ``pipeline`` (the whole recipe), ``bench``; ``head`` and ``personal``
("Improve recognition from my labels": a head over stored embeddings, judged on the user's
own held-out faces; its pieces in ``personal_data``, ``personal_fit``, ``personal_heldout``
and ``personal_general``).
"""
