"""CsvShardLoader: one collaborator's CSV file (header f1,f2,f3,f4,label) as OpenFL's DataLoader.

Parsed and split exactly as openfl-connect's TypeScript collaborator does (parseCsvDataset then
splitShard in packages/collaborator/src/tasks/csv-dataset.ts), so a Python and a TypeScript
collaborator given the same file train and validate on the same rows.
"""

import numpy as np

from openfl.federated.data.loader import DataLoader

N_FEATURES = 4
N_CLASSES = 3
EVERY = 3  # every 3rd row (index % 3 == 2) validates, as splitShard's default


def _number(cell):
    try:
        return float(cell.strip())
    except ValueError:
        return None


def read_csv_dataset(path):
    """Rows `f1..f4,label`; blank lines and a first non-numeric row (the header) are skipped.
    Features are float32 (the TypeScript side holds them in a Float32Array)."""
    features, labels = [], []
    with open(path, encoding="utf-8") as f:
        for number, raw in enumerate(f, start=1):
            line = raw.strip()
            if not line:
                continue
            values = [_number(c) for c in line.split(",")]
            if not labels and all(v is None for v in values):
                continue  # the header
            if len(values) != N_FEATURES + 1:
                raise ValueError(f"{path}:{number}: expected {N_FEATURES + 1} columns")
            if any(v is None or not np.isfinite(v) for v in values):
                raise ValueError(f"{path}:{number}: a column is not a finite number")
            label = values[N_FEATURES]
            if not (label.is_integer() and 0 <= label < N_CLASSES):
                raise ValueError(f"{path}:{number}: the label must be 0..{N_CLASSES - 1}")
            features.append(values[:N_FEATURES])
            labels.append(int(label))
    if not labels:
        raise ValueError(f"{path}: holds no data rows")
    return np.asarray(features, dtype=np.float32), np.asarray(labels, dtype=np.int64)


def validation_rows(samples):
    """splitShard's rule: index % 3 == 2 validates (and row 1 of a 2-row file)."""
    index = np.arange(samples)
    return (index % EVERY == EVERY - 1) | ((samples == 2) & (index == 1))


class CsvShardLoader(DataLoader):
    """data_path: this collaborator's line of plan/data.yaml (a CSV file, relative to the
    workspace). `fx plan initialize` builds the loader with data_path=None: no data then."""

    def __init__(self, data_path=None, **kwargs):
        super().__init__(**kwargs)
        empty = (np.zeros((0, N_FEATURES), np.float32), np.zeros((0,), np.int64))
        self.train, self.valid = empty, empty
        if data_path is not None:
            x, y = read_csv_dataset(data_path)
            valid = validation_rows(y.shape[0])
            self.train = (x[~valid], y[~valid])
            self.valid = (x[valid], y[valid])

    def get_feature_shape(self):
        return (N_FEATURES,)

    def get_train_loader(self, **kwargs):
        return self.train

    def get_valid_loader(self):
        return self.valid

    def get_infer_loader(self):
        return None

    def get_train_data_size(self):
        return int(self.train[1].shape[0])

    def get_valid_data_size(self):
        return int(self.valid[1].shape[0])

    def get_infer_data_size(self):
        return 0
