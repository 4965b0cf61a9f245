"""Personal fine-tuning (issue 12): a head over the stored embeddings, learned from the user's
labels and judged on the user's own held-out faces (``training.personal``)."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from personal_album import MODEL, confirm, embeddings, make_catalog

from album.catalog import Catalog
from album.cli import main
from album.people import PeopleService
from models.registry import UnknownModelError, get_spec, trained_dir
from training.head import apply_matrix, fold_into
from training.miners import PairMiner
from training.personal import adopt, personal_fine_tune
from training.personal_data import PersonalTrainingError, personal_data, relations


def _family(tmp_path, people=5, per_person=6, nuisance=0.8, confirmed=None, seed=0):
    x, labels = embeddings(people, per_person, nuisance, seed=seed)
    path, ids = make_catalog(tmp_path / "album", x)
    persons = confirm(path, ids, labels, confirmed or per_person)
    return path, ids, labels, persons, x


# --- pieces -------------------------------------------------------------------------------------


def test_pair_miner_falls_back_to_the_hardest_negative_when_no_semi_hard_is_left() -> None:
    # Anchor 0, positive 1 at squared distance 0.5; negative 2 closer than the positive (hard,
    # not semi-hard), negative 3 far beyond the margin.
    x = torch.tensor([[1.0, 0.0], [0.8660, 0.5], [0.9962, 0.0872], [-1.0, 0.0]])
    pos = torch.zeros(4, 4, dtype=torch.bool)
    pos[0, 1] = pos[1, 0] = True
    neg = torch.zeros(4, 4, dtype=torch.bool)
    neg[[0, 0, 1, 1], [2, 3, 2, 3]] = True
    neg = neg | neg.T
    (a, p, n), mined = PairMiner(margin=0.1)(x, pos, neg)
    assert mined["semihard"] == 0 and mined["fallback"] >= 1
    assert (0, 1, 2) in set(zip(a.tolist(), p.tolist(), n.tolist(), strict=True))
    assert 3 not in n.tolist()
    # Once the negative is out of reach nothing is mined: the loss has nothing left to do.
    far = torch.tensor([[1.0, 0.0], [0.9962, 0.0872], [-1.0, 0.0], [0.0, -1.0]])
    (a, _, _), _ = PairMiner(margin=0.1)(far, pos, neg)
    assert len(a) == 0


def test_the_head_folds_exactly_into_dlibs_network() -> None:
    """normalize(M e) of a stored embedding (plain + mirrored chip, summed, normalized, as the
    app embeds) equals the folded network's embedding of the same chip."""
    net = get_spec(MODEL).build()
    rng = np.random.default_rng(0)
    x = torch.from_numpy(rng.normal(size=(2, 3, 150, 150)).astype(np.float32))

    def embed(n):
        with torch.no_grad():
            y = n(x) + n(torch.flip(x, dims=[3]))
        return torch.nn.functional.normalize(y, dim=1).numpy()

    stored = embed(net)
    m = np.eye(128, dtype=np.float32) + 0.1 * rng.normal(size=(128, 128)).astype(np.float32)
    folded = embed(fold_into(net, "dlib-resnet-v1", m))
    assert np.allclose(apply_matrix(stored, m), folded, atol=1e-4)


# --- the user's decisions are used --------------------------------------------------------------


def test_negatives_come_from_rejections_cannot_links_and_shared_photos(tmp_path) -> None:
    x, labels = embeddings(3, 4, 0.3)
    # Face 12 shares a photo with face 0; faces 13 and 14 are unlabelled extras.
    extra = np.vstack([x, x[4:5] * 0.99 + 0.01, x[8:9], x[0:1]])
    extra /= np.linalg.norm(extra, axis=1, keepdims=True)
    photos = [[0, 12], *[[i] for i in range(1, 12)], [13], [14]]
    path, ids = make_catalog(tmp_path / "album", extra.astype(np.float32), photos)
    persons = confirm(path, ids, labels, 4)
    with Catalog(path) as cat:
        svc = PeopleService(cat)
        svc.reject([ids[13]], persons[2])  # "not this person" (it looks like P2)
        svc.answer(ids[14], ids[1], same=False)  # "not the same person"
        data = personal_data(cat)
    row = {int(f): i for i, f in enumerate(data.face_ids)}
    assert len(data.rejected) == 1 and len(data.cannot) == 1 and len(data.same_photo) == 1
    rel = relations(data)
    at = {int(r): i for i, r in enumerate(rel.rows)}
    p0 = [at[row[ids[i]]] for i in range(4)]
    p2 = [at[row[ids[i]]] for i in range(8, 12)]
    assert rel.neg[at[row[ids[13]]], p2].all()  # rejected from P2: differs from all of P2
    assert rel.neg[at[row[ids[14]]], p0].all()  # cannot-linked to a P0 face
    assert rel.neg[at[row[ids[12]]], p0].all()  # in one photo with a P0 face
    assert not rel.pos[at[row[ids[13]]]].any()


def test_a_rejected_look_alike_is_pushed_away_from_the_person(tmp_path) -> None:
    """The user's rejection is a training signal: trained with it, the face the user rejected
    from P0 ends farther from P0's faces (in units of the model's threshold) than trained
    without it."""
    x, labels = embeddings(4, 5, 0.8, seed=3)
    look_alike = x[:5].mean(0) + 0.02 * np.random.default_rng(1).normal(size=128)
    vectors = np.vstack([x, look_alike / np.linalg.norm(look_alike)]).astype(np.float32)
    gaps = []
    for rejected in (False, True):
        path, ids = make_catalog(tmp_path / f"album-{rejected}", vectors)
        persons = confirm(path, ids, labels, 5)
        if rejected:
            with Catalog(path) as cat:
                PeopleService(cat).reject([ids[-1]], persons[0])
        res = personal_fine_tune(path, f"rej-{rejected}", save=False)
        assert res.negatives["rejected"] == int(rejected)
        after = apply_matrix(vectors, res.matrix)
        gaps.append(np.linalg.norm(after[:5] - after[-1], axis=1).min() / res.threshold)
    assert gaps[1] > gaps[0] + 0.05


# --- the whole run ------------------------------------------------------------------------------


def test_works_from_two_people_with_two_faces_each(tmp_path) -> None:
    path, *_ = _family(tmp_path, people=2, per_person=4, confirmed=2)
    res = personal_fine_tune(path, "tiny")
    assert res.people == 2 and res.faces == 4 and res.held_out.faces == 4
    text = res.summary()
    assert "your 2 people" in text and "batch" not in text and "--" not in text


def test_too_few_labels_are_explained_in_words(tmp_path) -> None:
    path, *_ = _family(tmp_path, people=2, per_person=3, confirmed=1)
    with pytest.raises(PersonalTrainingError, match="at least two faces each of at least two"):
        personal_fine_tune(path, "none")


def test_a_better_model_is_kept_registered_and_adopted(tmp_path) -> None:
    path, *_, x = _family(tmp_path)
    with Catalog(path) as cat:
        confirmed_before = [a for a in cat.assignments() if a.source == "confirmed"]
    res = personal_fine_tune(path, "family-test")
    h = res.held_out
    assert res.kept and h.id_after > h.id_before
    assert f"up from {100 * h.id_before:.0f}%" in res.summary()
    spec = get_spec("family-test")  # a registered network: base + folded head
    assert spec.origin == "trained" and spec.threshold == pytest.approx(res.threshold)
    meta = json.loads((trained_dir() / "family-test.json").read_text())
    assert meta["base"] == MODEL and meta["training"]["held_out"]["faces"] == h.faces
    summary = adopt(path, res)
    assert summary.faces == len(x)
    with Catalog(path) as cat:
        assert cat.model == "family-test"
        _, new = cat.embeddings("family-test")
        assert np.allclose(new, apply_matrix(x, res.matrix), atol=1e-6)
        # The user's decisions are untouched by training and by the switch.
        assert [a for a in cat.assignments() if a.source == "confirmed"] == confirmed_before


def test_over_the_fused_default_the_head_is_kept_as_a_matrix(tmp_path) -> None:
    """dlib+sface has no one network to fold the head into: the personal model is the fused
    model plus the matrix, embeds real chips as the stored vectors through the head, and is
    adopted like any other."""
    from models.embedder import Embedder
    from models.trained import HEAD

    x, labels = embeddings(5, 6, 1.6, dim=256)
    path, ids = make_catalog(tmp_path / "album", x, model="dlib+sface")
    confirm(path, ids, labels, 6)
    res = personal_fine_tune(path, "dlib-sface-mine")
    assert res.kept and res.base == "dlib+sface"
    meta = json.loads((trained_dir() / "dlib-sface-mine.json").read_text())
    assert (meta["architecture"], meta["base"], meta["embedding_size"]) == (HEAD, "dlib+sface", 256)
    spec = get_spec("dlib-sface-mine")
    assert spec.parts == get_spec("dlib+sface").parts and spec.origin == "trained"
    chips = np.random.default_rng(0).integers(0, 255, (3, 150, 262, 3), dtype=np.uint8)
    fused = Embedder("dlib+sface", precision="fp32").embed_chips(chips)
    mine = Embedder("dlib-sface-mine", precision="fp32").embed_chips(chips)
    assert np.allclose(mine, apply_matrix(fused, res.matrix), atol=1e-5)
    adopt(path, res)
    with Catalog(path) as cat:
        assert cat.model == "dlib-sface-mine"
        _, new = cat.embeddings("dlib-sface-mine")
        assert np.allclose(new, apply_matrix(x, res.matrix), atol=1e-6)
    (trained_dir() / "dlib-sface-mine.safetensors").write_bytes(b"changed")
    from models.registry import WeightsMissingError, forget

    forget("dlib-sface-mine")
    with pytest.raises(WeightsMissingError, match="changed since training"):
        Embedder("dlib-sface-mine")


def test_a_model_that_is_not_better_is_not_kept(tmp_path) -> None:
    path, *_ = _family(tmp_path, nuisance=0.2)  # nothing to learn: the base is right already
    res = personal_fine_tune(path, "same-test")
    assert not res.kept and "Not kept" in res.summary()
    with pytest.raises(UnknownModelError):
        get_spec("same-test")
    assert not (trained_dir() / "same-test.json").exists()


def test_better_on_my_people_but_worse_in_general_is_not_kept(tmp_path) -> None:
    """Strangers who differ only in what the head learns to ignore: pairs of them sharing a
    photo (two people, the album's truth) become confusable, so the general check vetoes."""
    x, labels = embeddings(5, 6, 0.8)
    rng = np.random.default_rng(7)
    strangers = []
    for _ in range(6):
        c = np.zeros(128)
        c[:16] = rng.normal(size=16)
        c /= np.linalg.norm(c)
        u = np.zeros(128)
        u[16:20] = rng.normal(size=4)
        u /= np.linalg.norm(u)
        for sign in (1, -1):  # 0.49 apart, over the threshold (0.42); 0.31 once learned
            v = c + sign * 0.25 * u
            strangers.append(v / np.linalg.norm(v))
    vectors = np.vstack([x, np.array(strangers)]).astype(np.float32)
    n = len(x)
    photos = [[i] for i in range(n)] + [[n + 2 * j, n + 2 * j + 1] for j in range(6)]
    path, ids = make_catalog(tmp_path / "album", vectors, photos)
    confirm(path, ids, labels, 6)
    res = personal_fine_tune(path, "veto-test")
    assert res.held_out.id_after > res.held_out.id_before  # better on the user's people...
    assert res.general is not None and res.general.kind == "album" and not res.general.ok
    assert not res.kept and "general check" in res.summary()  # ...but not kept
    assert not (trained_dir() / "veto-test.json").exists()


# --- the CLI ------------------------------------------------------------------------------------


def test_cli_train_from_catalog_prints_the_same_figures(tmp_path, capsys) -> None:
    path, *_ = _family(tmp_path)
    out = tmp_path / "figures.json"
    args = ["--library", str(path), "train", "--from-catalog", "--out", "cli-fam", "--quiet"]
    assert main([*args, "--json", str(out)]) == 0
    text = capsys.readouterr().out
    figures = json.loads(out.read_text())
    h = figures["held_out"]
    line = next(ln for ln in text.splitlines() if ln.startswith("identification"))
    assert f"{100 * h['identification_before']:.1f}%" in line
    assert f"{100 * h['identification_after']:.1f}%" in line
    assert "Recognises your 5 people correctly" in text and figures["kept"]
    assert get_spec("cli-fam").origin == "trained"


def test_cli_train_from_catalog_with_one_person_says_what_to_do(tmp_path, capsys) -> None:
    path, *_ = _family(tmp_path, people=2, per_person=3, confirmed=1)
    assert main(["--library", str(path), "train", "--from-catalog", "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "Confirm at least two faces" in err and "--batch-p" not in err


def test_general_check_on_lfw_pairs_leaves_out_the_albums_people(tmp_path, lfw) -> None:
    """The fixed general check: LFW View 1 test pairs (a few here), 10-fold accuracy before
    and after the head, without pairs of people who are in the album."""
    from training.personal_general import lfw_check

    lines = (lfw / "pairsDevTest.txt").read_text().splitlines()
    n = int(lines[0])
    matched, mismatched = lines[1:11], lines[1 + n : 11 + n]
    (tmp_path / "pairsDevTest.txt").write_text("\n".join(["10", *matched, *mismatched]) + "\n")
    names = {p.split("\t")[0] for p in matched + mismatched}
    names |= {p.split("\t")[2] for p in mismatched}
    for name in names:
        (tmp_path / name).symlink_to(lfw / name)
    album_person = matched[0].split("\t")[0]
    same = lfw_check(tmp_path, MODEL, np.eye(128), set(), 0.002)
    assert same is not None and same.kind == "lfw" and same.pairs == 20
    assert same.after == same.before and same.ok
    without = lfw_check(tmp_path, MODEL, np.eye(128), {album_person}, 0.002)
    assert without is not None and without.pairs < 20
    assert lfw_check(tmp_path / "nowhere", MODEL, np.eye(128), set(), 0.002) is None
