"""Personal fine-tuning: learn from the user's own labels, judged on the user's own people.

"Improve recognition from my labels" and ``album train --from-catalog`` run this recipe:

1. **Data** (:mod:`training.personal_data`): the catalog's stored embeddings of the model in
   use, the confirmed faces per person, and every negative the user already gave: faces
   rejected from a person ("not this person"), cannot-links ("not the same person" answers),
   two faces in one photo, and the faces of the album's other people. Must-links ("same
   person") are positives.
2. **Model** (:mod:`training.personal_fit`): a small head over the frozen network
   (:mod:`training.head`): ``normalize(M e)`` with ``M`` starting at the identity, trained
   with the triplet loss on triplets mined over all of these at once
   (:class:`training.miners.PairMiner`: semi-hard, falling back to the hardest negative when
   no semi-hard one is left). The margin follows the model's distance scale: FaceNet's alpha
   0.2 (squared distance) belongs to a same-person threshold of about 1.1, so a model whose
   threshold is t gets ``0.2 * (t / 1.1)**2`` times ``margin_scale``.
3. **Judged on the user's people** (:mod:`training.personal_heldout`,
   :mod:`training.personal_general`): each person's confirmed faces (and the answered pairs)
   are split into ``folds``; each fold is held out once from a head trained on the rest, and
   the held-out faces are identified against the rest (1:K, as the app does) before and
   after; "same person?" answers are scored on held-out pairs. The head trained on everything
   is kept only if the held-out identification got better (and same-person answers no worse)
   and a fixed general check did not get worse: LFW's View 1 test pairs when a copy of LFW is
   given (people of the album left out), else pairs of album faces that no training used (two
   faces in one photo, answered pairs away from the trained faces).
4. **Saved** (this module) as a registered model (the head folded into the network's last
   layer), with a threshold scaled like the distances; :func:`adopt` re-groups the catalog
   with it at once (its embeddings are the stored ones through the head, exactly; no CNN
   pass).

Everything runs on stored embeddings: 15 people x 5 faces train in seconds on a CPU.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from training.head import apply_matrix
from training.personal_data import PersonalTrainingError, personal_data, relations
from training.personal_fit import PersonalSettings, fit_head, margin_for
from training.personal_general import GeneralCheck, album_check, lfw_check
from training.personal_heldout import Figures, held_out_figures, scale_ratio

log = logging.getLogger(__name__)


@dataclass
class PersonalResult:
    """What a run found, and whether a model was registered (``kept``)."""

    name: str
    base: str
    kept: bool
    people: int
    faces: int
    held_out: Figures
    general: GeneralCheck | None
    matrix: np.ndarray  # the head trained on everything (identity when nothing trained)
    threshold: float
    seconds: float
    negatives: dict[str, int]
    folds: list[dict]
    reason: str = ""

    def summary(self) -> str:
        """What changed, in words, for the app's message and the CLI."""
        h = self.held_out
        who = f"your {self.people} people" if self.people != 1 else "your 1 person"
        if not h.faces:
            text = (
                f"There were no confirmed faces to hold out and check {who} on, so the "
                "current model stays. Confirm more faces (three or more per person) and try "
                "again."
            )
            return text
        text = (
            f"Recognises {who} correctly in {100 * h.id_after:.0f}% of photos it was not "
            f"trained on, {_versus(h.id_after, h.id_before)} ({h.faces} held-out faces)."
        )
        if h.same_pairs or h.diff_pairs:
            text += (
                f' Answers "same person?" correctly in {100 * h.same_after:.0f}% of cases, '
                f"{_versus(h.same_after, h.same_before)}."
            )
        if self.general is not None:
            text += f" The {self.general.words()}."
        if self.kept:
            text += f" Saved as model {self.name}."
        else:
            text += f" Not kept: {self.reason} Your current model stays."
        return text

    def figures(self) -> dict:
        h = self.held_out
        return {
            "name": self.name,
            "base": self.base,
            "kept": self.kept,
            "reason": self.reason,
            "people": self.people,
            "faces": self.faces,
            "held_out": {
                **asdict(h),
                "identification_before": h.id_before,
                "identification_after": h.id_after,
                "same_person_before": h.same_before,
                "same_person_after": h.same_after,
            },
            "general": asdict(self.general) if self.general else None,
            "threshold": self.threshold,
            "seconds": self.seconds,
            "negatives": self.negatives,
            "folds": self.folds,
        }


def _versus(after: float, before: float) -> str:
    """'up from 89%', 'down from 91%' or 'as before'."""
    if round(100 * after) == round(100 * before):
        return "as before" if after == before else f"about as before ({100 * before:.1f}%)"
    return f"{'up' if after > before else 'down'} from {100 * before:.0f}%"


def personal_fine_tune(
    catalog_path: Path | None,
    name: str,
    *,
    settings: PersonalSettings | None = None,
    lfw: Path | None = None,
    status: Callable[[str], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
    save: bool = True,
) -> PersonalResult:
    """The whole recipe (module docstring) on the catalog at ``catalog_path`` (None: the
    default one). Registers model ``name`` only when it is kept. Raises
    :class:`PersonalTrainingError` when the catalog cannot support a run."""
    from album.catalog import Catalog
    from models.registry import get_spec
    from models.trained import PRETRAINED
    from training import checkpoints

    start = time.perf_counter()
    settings = settings or PersonalSettings()
    try:
        checkpoints.check_name(name)
    except ValueError as exc:
        raise PersonalTrainingError(str(exc)) from None

    def say(msg: str) -> None:
        log.info(msg)
        if status:
            status(msg)

    with Catalog(catalog_path) as cat:
        data = personal_data(cat)
    if not len(data.face_ids):
        raise PersonalTrainingError(
            "The catalog has no faces for its model yet: scan some photos first."
        )
    trainable = data.trainable_people()
    if len(trainable) < 2:
        raise PersonalTrainingError(
            f"Confirm at least two faces each of at least two people first "
            f"({len(trainable)} {'person has' if len(trainable) == 1 else 'people have'} two "
            "or more confirmed faces)."
        )
    spec = get_spec(data.model)
    if data.model not in PRETRAINED and spec.origin != "trained" and not spec.parts:
        raise PersonalTrainingError(
            f"The model in use ({data.model}) cannot be adapted to your people; switch to "
            f"one of {', '.join(PRETRAINED)} or a fused model in Settings first."
        )
    threshold = float(spec.threshold)
    negatives = {
        "rejected": len(data.rejected),
        "cannot_link": len(data.cannot),
        "same_photo": len(data.same_photo),
        "must_link": len(data.must),
    }
    n_conf = int((data.labels >= 0).sum())
    say(
        f"learning from {n_conf} confirmed faces of {len(data.people)} people, "
        f"{len(data.rejected)} rejected faces, {len(data.cannot)} 'not the same' answers, "
        f"{len(data.same_photo)} pairs of faces sharing a photo"
    )
    say("checking on faces held out from training")
    held, folds = held_out_figures(
        data,
        threshold,
        settings,
        should_stop,
        lambda f, n: say(f"checking on held-out faces: part {f + 1} of {n}"),
    )
    say("training on all your labels")
    rel = relations(data)
    matrix, stats = fit_head(
        data.embeddings, rel, margin_for(threshold, settings.margin_scale), settings, should_stop
    )
    after = apply_matrix(data.embeddings, matrix)
    ratio = scale_ratio(data.embeddings[rel.rows], after[rel.rows], rel)
    general = None
    if lfw is not None:
        say("general check on LFW pairs")
        exclude = {n for _, n in data.people}
        general = lfw_check(lfw, data.model, matrix, exclude, settings.general_tolerance)
    if general is None:
        general = album_check(data, matrix, threshold, ratio, rel)

    # Strictly better identification, and "same person?" answers no worse. A tie is not
    # kept: on LFW's dev people, heads that tied on held-out faces but answered "same
    # person?" better were as often worse as better on the unlabelled ones.
    same_ok = not (held.same_pairs or held.diff_pairs) or held.same_after >= held.same_before
    better = held.faces > 0 and held.id_after > held.id_before and same_ok
    if not held.faces:
        reason = "no held-out faces to check on."
    elif not better:
        reason = "it did not recognise your people better on the held-out photos."
    elif general is not None and not general.ok:
        reason = "it got worse on the general check."
    else:
        reason = ""
    kept = not reason
    result = PersonalResult(
        name=name,
        base=data.model,
        kept=kept,
        people=len(trainable),
        faces=n_conf,
        held_out=held,
        general=general,
        matrix=matrix,
        threshold=threshold * ratio,
        seconds=0.0,
        negatives=negatives,
        folds=folds,
        reason=reason,
    )
    if kept and save:
        say(f"saving model {name}")
        _save(result, spec, ratio, stats)
    result.seconds = time.perf_counter() - start
    return result


def _save(result: PersonalResult, spec, ratio: float, stats: dict) -> Path:
    """Fold the head into the base network (over a fused base, where there is no one
    network, keep it as a matrix) and register it as ``result.name``."""
    from models.registry import get_spec
    from training import checkpoints
    from training.head import fold_into
    from training.models import load_base

    calibration = None
    if spec.calibration:
        slope, mid = spec.calibration
        calibration = (slope / ratio, mid * ratio)
    h = result.held_out
    common = {
        "init": f"personal:{result.base}",
        "threshold": result.threshold,
        "calibration": calibration,
        "description": (
            f"{result.base} adapted to your {result.people} people "
            f"({100 * h.id_after:.0f}% of held-out faces recognised, was "
            f"{100 * h.id_before:.0f}%)"
        ),
        "training": {**result.figures(), "final_fit": stats, "distance_ratio": ratio},
    }
    if spec.parts:
        # normalize(M2 normalize(M1 e)) is normalize(M2 M1 e): over a personal model, one
        # matrix over the same fused base.
        matrix = np.asarray(result.matrix, np.float64)
        base_name = spec.name
        if spec.head is not None:
            matrix = matrix @ np.asarray(spec.head(), np.float64)
            base_name = json.loads((_trained_meta(spec.name)).read_text())["base"]
        meta = checkpoints.save_head(result.name, matrix, base=base_name, **common)
    else:
        base = load_base(result.base)
        net = fold_into(base.net.eval(), base.architecture, result.matrix)
        meta = checkpoints.save_trained(
            result.name,
            net,
            base=base.spec_name,
            architecture=base.architecture,
            embedding_size=base.embedding_size,
            **common,
        )
    checkpoints.refresh_registry(result.name)
    get_spec(result.name)
    return meta


def _trained_meta(name: str) -> Path:
    from models.registry import trained_dir

    return trained_dir() / f"{name}.json"


def adopt(catalog_path: Path | None, result: PersonalResult, recluster: bool = True):
    """Use the kept model in the catalog at once: its embedding of every face is the stored
    one through the head (exactly what the network would give), written as the new model's
    rows; then the catalog switches model (backup first, as a re-embedding does) and
    re-groups. Returns the re-cluster summary (None when ``recluster`` is false).

    Machine data only: confirmed and rejected faces, names and answers are untouched."""
    from album.catalog import Catalog
    from album.catalog.backup import backup
    from album.catalog.lock import writer_job
    from album.scan.reembed import Reembedder
    from models.embedder import Embedder

    if not result.kept:
        raise PersonalTrainingError("this model was not kept; there is nothing to switch to")
    with Catalog(catalog_path) as cat:
        ids, emb = cat.embeddings(result.base)
        new = apply_matrix(emb, result.matrix) if len(ids) else emb
        cat.store_embeddings(result.name, ids, new)
        pending = cat.faces_without_embedding(result.name)
        if pending:  # faces without a stored vector: the network embeds them, then switches
            Reembedder(cat, Embedder(result.name, device="cpu")).run()
        else:  # what a finished re-embedding does: switch under the writer lock, backup first
            with writer_job(cat, "re-embed", f"{cat.path} with {result.name}"):
                if cat.model not in (None, result.name):
                    backup(cat, reason=f"before-model-{result.name}")
                cat.set_setting("model", result.name)
        if not recluster:
            return None
        from album.people.service import PeopleService

        return PeopleService(cat).recluster()


def write_json(result: PersonalResult, path: Path) -> None:
    path.write_text(json.dumps(result.figures(), indent=2, default=float) + "\n")
