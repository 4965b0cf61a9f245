"""What stands between the default model and CFP frontal-profile accuracy of 96%: the levers
that need no new network, and any other network, on the same faces.

    python benchmarks/side_view_ceiling.py --cfp ../shared/datasets/cfp-dev [--onnx FILE]

Faces are found and cut as ``album eval cfp`` does (the app's detector, each CFP crop
edge-padded as it would sit in a photo; a side view with no face makes its pairs misses).
Every row gives the 5-fold accuracy on the frontal-profile pairs of the dev people and of the
held-out (test) people, and frontal-frontal on the held-out people:

- the default model, ``dlib+sface``;
- its two parts joined with other weights for SFace (the default's 0.65 was chosen on LFW);
- a linear map of the joined vector trained on the dev people's faces with the triplet loss
  (each anchor against its hardest other person, frontal-profile pairs weighted 3x), then
  applied to everyone: what fitting the side views of people we have does for people we
  have not;
- with ``--onnx``: another network taking 112 px chips on the ArcFace template (RGB,
  (x - 127.5) / 127.5, the mirrored chip added), alone and joined to the default.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a script from anywhere
    sys.path.insert(0, str(ROOT))


def unit(x: np.ndarray) -> np.ndarray:
    return x / np.linalg.norm(x, axis=1, keepdims=True).clip(1e-12)


def linear_map(x: np.ndarray, labels: np.ndarray, profile: np.ndarray, steps: int = 600):
    """A square matrix, started at the identity, fitted with the triplet loss (margin 0.2)."""
    import torch

    torch.manual_seed(0)
    xs, ys = torch.from_numpy(x), torch.from_numpy(labels)
    side = torch.from_numpy(profile)
    w = torch.nn.Parameter(torch.eye(x.shape[1]))
    opt = torch.optim.Adam([w], lr=1e-3)
    same = ys[:, None] == ys[None, :]
    positives = same & ~torch.eye(len(xs), dtype=torch.bool)
    weight = ((side[:, None] ^ side[None, :]).float() * 2 + 1)[positives]
    for _ in range(steps):
        e = torch.nn.functional.normalize(xs @ w, dim=1)
        d2 = torch.cdist(e, e).pow(2)
        hardest = d2.masked_fill(same, 1e9).min(1).values
        loss = (torch.relu(d2 - hardest[:, None] + 0.2)[positives] * weight).mean()
        loss = loss + 1e-2 * (w - torch.eye(x.shape[1])).pow(2).sum()
        opt.zero_grad()
        loss.backward()
        opt.step()
    return w.detach().numpy()


def onnx_embeddings(path: Path, chips: np.ndarray) -> np.ndarray:
    """Unit embeddings of uint8 RGB chips (N, 112, 112, 3), each with its mirror added."""
    from models.engine import _openvino

    ov = _openvino()
    net = ov.Core().compile_model(ov.Core().read_model(str(path)), "CPU")

    def run(c: np.ndarray) -> np.ndarray:
        x = ((c.astype(np.float32) - 127.5) / 127.5).transpose(0, 3, 1, 2)
        return unit(np.concatenate([net(x[s : s + 1])[0] for s in range(len(x))]))

    return unit(run(chips) + run(np.ascontiguousarray(chips[:, :, ::-1])))


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--cfp", type=Path, required=True, help="CFP folder (Data/, Protocol/)")
    p.add_argument("--onnx", type=Path, help="another network to try (112 px ArcFace chips)")
    args = p.parse_args(argv)

    from album.evaluation.cfp import detect_cfp, kfold_with_misses, load_padded, read_cfp
    from album.evaluation.cfp_faces import load_cfp_faces
    from album.evaluation.splits import in_split
    from models.embedder import Embedder

    data = read_cfp(args.cfp)
    n = len(data.images)
    found = detect_cfp(data, list(range(n)))
    keep = np.flatnonzero(found.found)  # the rows load_cfp_faces keeps, in order
    parts = {m: load_cfp_faces(args.cfp, "all", m) for m in ("dlib-resnet-v1", "sface")}
    labels = parts["sface"].faces.labels
    profile = parts["sface"].profile
    dev = np.array([not in_split(data.images[i].person, "test") for i in keep])
    person_test = np.array([in_split(im.person, "test") for im in data.images])

    def accuracy(x: np.ndarray, protocol: str, split: str) -> float:
        e = np.zeros((n, x.shape[1]), np.float32)
        e[keep] = x
        pairs = data.pairs[protocol]
        a, b = np.array([q.a for q in pairs]), np.array([q.b for q in pairs])
        half = person_test if split == "test" else ~person_test
        sel = half[a] & half[b]
        d = np.linalg.norm(e[a] - e[b], axis=1)[sel]
        same = np.array([q.same for q in pairs])[sel]
        folds = np.array([q.fold for q in pairs])[sel]
        return kfold_with_misses(d, same, folds, (found.found[a] & found.found[b])[sel])[0]

    def row(name: str, x: np.ndarray) -> None:
        fp_dev, fp_test = accuracy(x, "FP", "dev"), accuracy(x, "FP", "test")
        ff_test = accuracy(x, "FF", "test")
        print(
            f"{name:<44} FP dev {100 * fp_dev:6.2f}%  FP test {100 * fp_test:6.2f}%  "
            f"FF test {100 * ff_test:6.2f}%",
            flush=True,
        )

    dlib, sface = parts["dlib-resnet-v1"].faces.embeddings, parts["sface"].faces.embeddings
    default = unit(np.concatenate([dlib, 0.65 * sface], axis=1))
    print(f"faces            {len(keep)} of {n} images ({(~found.found).sum()} without a face)")
    row("dlib+sface (the default)", default)
    for w in (0.5, 0.8, 1.0, 1.5):
        row(f"  SFace weighted {w} instead of 0.65", unit(np.concatenate([dlib, w * sface], 1)))
    m = linear_map(default[dev], labels[dev], profile[dev])
    row("  a linear map trained on the dev people", unit(default @ m))
    if args.onnx:
        sface_chips = Embedder("sface")
        chips = np.stack(
            [
                sface_chips.chips(load_padded(data.root, data.images[i]), [found.face(i)])[0]
                for i in keep
            ]
        )
        other = onnx_embeddings(args.onnx, chips)
        row(f"{args.onnx.name}", other)
        for w in (0.5, 1.0):
            row(
                f"  joined to the default, weight {w}",
                unit(np.concatenate([other, w * default], 1)),
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
