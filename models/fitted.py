"""Constants fitted on LFW, with the commands that produced them.

Landmark templates give where MTCNN's five points (eye on the image's left, other eye, nose
tip, left and right mouth corner) land in each embedder's chip, in chip pixels.
"""

# dlib ResNet v1 chip (150 px, dlib's padding 0.25): median position of MTCNN's landmarks in
# dlib's own chips of 2,983 LFW faces.
#   python scripts/fit_mtcnn_template.py ../shared/datasets/lfw --images 3000
DLIB_MTCNN_TEMPLATE = (
    (47.848, 45.991),
    (102.227, 46.092),
    (74.775, 78.612),
    (51.129, 105.924),
    (98.636, 106.086),
)

# facenet-pytorch chips (160 px): median position of MTCNN's landmarks in the tight MTCNN box
# resized to 160x160, which is how facenet-pytorch cuts faces (margin 0), on 600 LFW faces.
FACENET_MTCNN_TEMPLATE = (
    (45.14, 62.61),
    (119.05, 61.42),
    (82.53, 94.22),
    (50.9, 121.48),
    (117.1, 120.51),
)

# Same/different threshold and P(same | distance) calibration for dlib-resnet-v1 (unit-length
# embeddings, mirrored chip added): the mean of the 10 LFW folds' best thresholds, and a
# logistic fit (slope, midpoint) on all 6,000 pair distances.
#   album eval lfw --data ../shared/datasets/lfw --json lfw.json
DLIB_THRESHOLD = 0.416
DLIB_CALIBRATION = (63.73, 0.4229)

# ArcFace's 112x112 five-point template (InsightFace; the one OpenCV's FaceRecognizerSF aligns
# to). SFace was trained on chips cut this way from MTCNN-style landmarks, so it is used as is.
ARCFACE_TEMPLATE = (
    (38.2946, 51.6963),
    (73.5318, 51.5014),
    (56.0252, 71.7366),
    (41.5493, 92.3655),
    (70.7299, 92.2041),
)

# sface (mirrored chip added) and dlib+sface: sface's weight in the fused model (dlib's is 1),
# then each model's best threshold and logistic calibration, all fitted on the 2,209 pairs of
# the dev half of LFW's people (album.evaluation.splits); the test half stays for reporting.
#   album eval lfw --data ../shared/datasets/lfw --model dlib-resnet-v1 --pairs dlib.npz
#   album eval lfw --data ../shared/datasets/lfw --model sface --pairs sface.npz
#   python benchmarks/fuse_weights.py --first dlib.npz --second sface.npz
SFACE_THRESHOLD = 1.151
SFACE_CALIBRATION = (36.48, 1.1481)
FUSED_SFACE_WEIGHT = 0.65
FUSED_THRESHOLD = 0.738
FUSED_CALIBRATION = (46.46, 0.7270)

# Side-view classifier (models.pose.side_view_probability): a logistic regression on
# models.pose.side_view_features, standardized by MEAN and SCALE. Fitted on the dev people
# (album.evaluation.splits) of CFP (profile photos: side views; frontal photos) and of LFW
# (6,000 sampled images, each face weighing 0.3: 3/4 views that are not side views). On the
# test people: 97.96% of CFP's side views, 0.00% of its frontal faces and 1.50% of LFW's
# faces classed profile (the five-point yaw alone: 46% of side views).
#   python benchmarks/fit_side_view.py --cfp ../shared/datasets/cfp-dev --lfw ../shared/datasets/lfw
SIDE_VIEW_MEAN = (
    -0.1492,
    -0.11278,
    0.2877,
    -0.10909,
    0.1199,
    0.090401,
    -0.12958,
    0.25829,
    0.25475,
    0.26091,
    0.15991,
    1.1829,
    1.0472,
    0.63978,
    1.3525,
)
SIDE_VIEW_SCALE = (
    0.10383,
    0.029497,
    0.059532,
    0.031947,
    0.13174,
    0.045569,
    0.10595,
    0.029691,
    0.070152,
    0.030999,
    0.17025,
    0.19706,
    0.25029,
    0.22351,
    0.089969,
)
SIDE_VIEW_COEF = (
    0.85279,
    0.36305,
    -0.13689,
    0.33604,
    0.92677,
    -0.58862,
    0.48746,
    -0.17515,
    -0.42202,
    0.15114,
    0.90442,
    -1.5982,
    -1.0722,
    0.14029,
    0.19715,
)
SIDE_VIEW_INTERCEPT = -6.251

# The "Same person?" queue's calibration for dlib-resnet-v1 (album.people.verification
# .calibrated): per question kind and pose, (kind, side_view, slope, offset) on the raw
# probability's log-odds. Fitted on every question the queue held (698) while a simulated user
# answered 40 questions on each of five albums of dev people (album.evaluation.splits): three
# of CFP (seeds 11-13, 20-25% real side views) and two damaged LFW ones (seeds 21-22). Kinds
# and poses with under 30 questions or under 5 of either truth take their kind's other entry
# (side views in a group that may be two) or, without one, the raw probability within 1-99%
# (groups that may be one, frontal faces left alone).
#   python benchmarks/make_album.py DIR --cfp ../shared/datasets/cfp-dev --split dev \
#       --people 30 --photos 120 --faces 1-6 --seed 11 (12, 13: --side-share 0.25)
#   python benchmarks/make_album.py DIR --split dev --damage --people 30 --photos 120 --seed 21
#   album eval calibration DIR... --answers 40 --every 2 --fit
DLIB_QUESTION_CALIBRATION: tuple[tuple[str, bool, float, float], ...] = (
    ("split", False, 0.2312, 0.5228),
    ("edge", False, 0.5534, -0.9537),
    ("edge", True, 0.4179, 0.2511),
    ("loose", True, 0.3495, -2.2794),
)

# Questions about two groups ("clusters": are these two groups one person; "split": is this
# group two people), per kind and pose: (kind, side_view, a, b, e, c) of
# album.people.verification.group_calibrated. Fitted on every group question the queue would
# ask about 200 albums of 30 dev people from each of LFW (people with >= 10 images) and CFP
# (real side views), each grouped by the app's clustering (37,492 questions). Where the full fit
# would not rise with the pair probability at every group size or fall as the groups part
# (here: two groups that may be one), the pair log-odds alone are fitted. Side views in two
# groups that may be one person take the frontal entry (too few).
#   album eval groups --lfw ../shared/datasets/lfw --cfp ../shared/datasets/cfp-dev \
#       --split dev --albums 200 --fit
FUSED_GROUP_CALIBRATION: tuple[tuple[str, bool, float, float, float, float], ...] = (
    ("clusters", False, 2.4934, 0.0, 0.0, -4.2805),
    ("split", False, 1.706, -0.3815, -4.2473, -0.0063),
    ("split", True, 0.7075, 0.0, 0.0, 2.0192),
)
