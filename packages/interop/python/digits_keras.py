"""Real data and a real Keras model for the mixed federations: scikit-learn's digits (1797 8x8
images, 10 classes, shipped inside the package: no download) split into collaborator shards, and
OpenFL's own KerasTaskRunner training a small CNN on one shard with Keras 3 on JAX.

Shard files are CSV, as the TypeScript collaborators read them (@openfl-connect/collaborator's
parseCsvDataset): a header f1..f64,label, then one row per image, pixels scaled to [0, 1]. Rows
i with i % 3 == 2 validate, the others train (splitShard's rule, so both sides split alike).

    python digits_keras.py export --out-dir DIR --names a,b,c [--seed 7]
writes DIR/digits-<name>.csv for each name and prints {"shards": {name: path}}.
    python digits_keras.py names
prints KerasTaskRunner's tensor names and shapes of the CNN, its optimizer's in order, and those
of a small model's optimizer under each optimizer the TF.js runner maps.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import sys

os.environ.setdefault("KERAS_BACKEND", "jax")

import numpy as np  # noqa: E402

IMAGE_SHAPE = (8, 8, 1)
CLASSES = 10
VALIDATE_EVERY = 3


def export_shards(out_dir: str, names: list[str], seed: int) -> dict[str, str]:
    from sklearn.datasets import load_digits

    digits = load_digits()
    x = digits.data.astype(np.float64) / 16.0
    y = digits.target.astype(np.int64)
    order = np.random.default_rng(seed).permutation(len(y))
    os.makedirs(out_dir, exist_ok=True)
    paths = {}
    for name, part in zip(names, np.array_split(order, len(names))):
        path = os.path.join(out_dir, f"digits-{name}.csv")
        with open(path, "w", newline="", encoding="utf-8") as f:
            w = csv.writer(f)
            w.writerow([f"f{i + 1}" for i in range(x.shape[1])] + ["label"])
            for i in part:
                w.writerow([f"{v:.6g}" for v in x[i]] + [int(y[i])])
        paths[name] = path
    return paths


def read_shard(path: str):
    """(x_train, y_train, x_valid, y_valid): images [n, 8, 8, 1] float32, one-hot labels."""
    with open(path, encoding="utf-8") as f:
        rows = list(csv.reader(f))[1:]
    data = np.asarray([[float(c) for c in r] for r in rows if r], dtype=np.float32)
    x = data[:, :-1].reshape((-1, *IMAGE_SHAPE))
    y = np.eye(CLASSES, dtype=np.float32)[data[:, -1].astype(np.int64)]
    valid = np.arange(len(data)) % VALIDATE_EVERY == VALIDATE_EVERY - 1
    return x[~valid], y[~valid], x[valid], y[valid]


def build_cnn():
    """The CNN the TypeScript collaborators build with TF.js (@openfl-connect/tfjs's digitsCnn):
    layers left to Keras's automatic names, as a user would write it."""
    import keras

    model = keras.Sequential(
        [
            keras.Input(IMAGE_SHAPE),
            keras.layers.Conv2D(16, 3, activation="relu"),
            keras.layers.MaxPooling2D(2),
            keras.layers.Flatten(),
            keras.layers.Dense(64, activation="relu"),
            keras.layers.Dense(CLASSES, activation="softmax"),
        ]
    )
    model.compile(
        loss="categorical_crossentropy",
        optimizer=keras.optimizers.Adam(learning_rate=0.005),
        metrics=["accuracy"],
    )
    return model


def keras_runner(shard_path: str):
    """OpenFL's KerasTaskRunner, unmodified, with this shard in OpenFL's KerasDataLoader."""
    from openfl.federated.data.loader_keras import KerasDataLoader
    from openfl.federated.task.runner_keras import KerasTaskRunner

    class DigitsShard(KerasDataLoader):
        def __init__(self, path: str, batch_size: int = 32):
            super().__init__(batch_size)
            self.X_train, self.y_train, self.X_valid, self.y_valid = read_shard(path)

        def get_feature_shape(self):
            return self.X_train.shape[1:]

        def get_num_classes(self):
            return CLASSES

    import keras

    runner = KerasTaskRunner(data_loader=DigitsShard(shard_path))
    # Keras numbers automatic layer names per process (conv2d, then conv2d_1 for the next model):
    # a real collaborator is a process of its own, this fixture runs several in one. A fresh
    # session gives each collaborator's model the names it would have in its own process.
    keras.utils.clear_session()
    runner.model = build_cnn()
    runner.initialize_tensorkeys_for_functions()
    return runner


def tensor_names_and_shapes(model) -> dict[str, list[int]]:
    """KerasTaskRunner's names and shapes for the model (build_cnn() in a fresh process)."""
    from openfl.federated.task.runner_keras import KerasTaskRunner

    weights = KerasTaskRunner._get_weights_dict(model)
    return {name: list(v.shape) for name, v in weights.items()}


def optimizer_names_and_shapes(model, x=None, y=None) -> list[list]:
    """KerasTaskRunner's optimizer tensors (with_opt_vars=True) of the model after one training
    step (on x, y; default two blank digits), in its order: [[name, shape], ...]. Keras makes the
    slots at the first step, as KerasTaskRunner sends them only after train_task."""
    from openfl.federated.task.runner_keras import KerasTaskRunner

    if x is None:
        x = np.zeros((2, *IMAGE_SHAPE), dtype=np.float32)
        y = np.eye(CLASSES, dtype=np.float32)[[0, 1]]
    model.fit(x, y, batch_size=2, epochs=1, verbose=0)
    weights = KerasTaskRunner._get_weights_dict(model.optimizer)
    return [[name, list(v.shape)] for name, v in weights.items()]


# Keras optimizers whose state @openfl-connect/tfjs maps to TF.js's, as the TypeScript interop
# spec builds their TF.js counterparts: name -> constructor.
SMALL_MODEL_OPTIMIZERS = {
    "adam": lambda k: k.optimizers.Adam(0.01),
    "rmsprop": lambda k: k.optimizers.RMSprop(0.01),
    "rmsprop-momentum-centered": lambda k: k.optimizers.RMSprop(
        0.01, momentum=0.5, centered=True
    ),
    "adagrad": lambda k: k.optimizers.Adagrad(0.05),
    "adadelta": lambda k: k.optimizers.Adadelta(1.0),
    "sgd": lambda k: k.optimizers.SGD(0.05),
}


def small_model_optimizer_names() -> dict[str, list[list]]:
    """KerasTaskRunner's optimizer tensors of Sequential([Input((3,)), Dense(4, name="hid"),
    Dense(2)]) under each of SMALL_MODEL_OPTIMIZERS, each built in a fresh Keras session."""
    import keras

    out = {}
    for name, make in SMALL_MODEL_OPTIMIZERS.items():
        keras.utils.clear_session()
        model = keras.Sequential(
            [keras.Input((3,)), keras.layers.Dense(4, name="hid"), keras.layers.Dense(2)]
        )
        model.compile(optimizer=make(keras), loss="mse")
        x, y = np.zeros((2, 3), np.float32), np.zeros((2, 2), np.float32)
        out[name] = optimizer_names_and_shapes(model, x, y)
    return out


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = p.add_subparsers(dest="command", required=True)
    ex = sub.add_parser("export", help="write the digits shards as CSV")
    ex.add_argument("--out-dir", required=True)
    ex.add_argument("--names", required=True, help="collaborator names, comma separated")
    ex.add_argument("--seed", type=int, default=7)
    sub.add_parser(
        "names",
        help="print KerasTaskRunner's tensor names and shapes of the CNN and of its optimizer",
    )
    args = p.parse_args(argv)
    if args.command == "export":
        names = [n.strip() for n in args.names.split(",") if n.strip()]
        print(json.dumps({"shards": export_shards(args.out_dir, names, args.seed)}))
    else:
        # One model (a second would be named sequential_1 in this process).
        model = build_cnn()
        tensors = tensor_names_and_shapes(model)
        optimizer = optimizer_names_and_shapes(model)
        small = small_model_optimizer_names()
        print(json.dumps({"tensors": tensors, "optimizer": optimizer, "small_model": small}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
