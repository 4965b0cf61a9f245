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
# models.pose.side_view_features, standardized by MEAN and SCALE, fitted on the faces of CFP's
# dev people (album.evaluation.splits) as they sit in a photo, labelled by CFP's
# frontal/profile folders. On the test people: 99.59% of side views and 0.00% of frontal faces
# classed profile (the five-point yaw alone: 46% and 0%).
#   python benchmarks/fit_side_view.py --cfp ../shared/datasets/cfp-dev
SIDE_VIEW_MEAN = (-0.12352, -0.10987, 0.28871, -0.10246, 0.14053, 0.099262, -0.1135, 0.25782, 0.25031, 0.26406, 0.19112, 1.1271, 1.0018, 0.6998, 1.3861)  # noqa: E501
SIDE_VIEW_SCALE = (0.1472, 0.034042, 0.073302, 0.038461, 0.18238, 0.046411, 0.14717, 0.033134, 0.087631, 0.035423, 0.23609, 0.28219, 0.3165, 0.34302, 0.11286)  # noqa: E501
SIDE_VIEW_COEF = (1.5411, 0.21592, 0.45113, 0.71275, 1.2753, -0.21163, 1.1233, -0.45149, -0.34838, -0.06782, 1.6113, -1.7258, -1.5784, 0.68891, 0.17408)  # noqa: E501
SIDE_VIEW_INTERCEPT = -2.5318
