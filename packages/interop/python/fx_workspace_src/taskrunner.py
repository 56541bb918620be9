"""NumpySoftmaxTaskRunner: softmax regression (3 classes, 4 features) as an OpenFL 1.9 TaskRunner.

The math is openfl_federation.py's NumpySoftmaxRunner (packages/interop/python): logits =
W x + b with W = dense.weight [3, 4], b = dense.bias [3], zeros at init (float32). train_task:
`epochs` epochs of mini-batch SGD on cross-entropy (batch 16, lr 0.01), the sample order of each
epoch np.random.default_rng(round + 1).permutation(n), grad = mean over the batch; loss = mean of
the batch losses, each before its update. validate_task: accuracy of argmax (ties: lowest class).
float64 math, float32 tensors. Tensor keys and tags as openfl's runner_pt.py.
"""

import numpy as np

from openfl.federated.task.runner import TaskRunner
from openfl.utilities import TensorKey

N_CLASSES = 3
N_FEATURES = 4
WEIGHT = "dense.weight"
BIAS = "dense.bias"
TENSOR_NAMES = (WEIGHT, BIAS)


def _log_softmax(logits):
    shifted = logits - logits.max(axis=1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))


class NumpySoftmaxTaskRunner(TaskRunner):
    def __init__(self, data_loader, batch_size=16, learning_rate=0.01, **kwargs):
        super().__init__(data_loader, **kwargs)
        self.batch_size = int(batch_size)
        self.learning_rate = float(learning_rate)
        self.weight = np.zeros((N_CLASSES, N_FEATURES), dtype=np.float32)
        self.bias = np.zeros((N_CLASSES,), dtype=np.float32)
        self.opt_treatment = "RESET"

    # -- the model as OpenFL's plan and checkpoints see it --
    def get_tensor_dict(self, with_opt_vars=False):
        # Plain SGD has no optimizer state, so with_opt_vars adds nothing.
        return {WEIGHT: self.weight.copy(), BIAS: self.bias.copy()}

    def set_tensor_dict(self, tensor_dict, with_opt_vars=False):
        w, b = self._weights(tensor_dict)
        self.weight, self.bias = w.astype(np.float32), b.astype(np.float32)

    def initialize_tensorkeys_for_functions(self, with_opt_vars=False):
        pass  # get_required_tensorkeys_for_function computes them on demand

    def initialize_globals(self):
        pass

    def reset_opt_vars(self):
        pass

    def load_native(self, filepath, **kwargs):
        with np.load(filepath) as f:
            self.set_tensor_dict({n: f[n] for n in TENSOR_NAMES})

    def save_native(self, filepath, **kwargs):
        with open(filepath, "wb") as f:  # np.savez would append .npz to a bare path
            np.savez(f, **self.get_tensor_dict())

    # -- what openfl's Collaborator calls --
    def get_required_tensorkeys_for_function(self, func_name, **kwargs):
        # Relative keys: GLOBAL = the aggregated model ("model"), LOCAL = this round's training.
        model = [TensorKey(n, "GLOBAL", 0, False, ("model",)) for n in TENSOR_NAMES]
        if func_name == "train_task":
            return model
        if func_name == "validate_task" and kwargs.get("apply") == "global":
            return model
        if func_name == "validate_task" and kwargs.get("apply") == "local":
            return [TensorKey(n, "LOCAL", 0, False, ("trained",)) for n in TENSOR_NAMES]
        raise ValueError(f"no function {func_name!r} with kwargs {kwargs!r}")

    def train_task(self, col_name, round_num, input_tensor_dict, epochs=1, batch_size=None, **kw):
        w, b = self._weights(input_tensor_dict)
        x, y = self.data_loader.get_train_loader()
        x = x.astype(np.float64)
        n = y.shape[0]
        batch = int(batch_size or self.batch_size)
        onehot = np.eye(N_CLASSES, dtype=np.float64)[y]
        rng = np.random.default_rng(round_num + 1)
        batch_losses = []
        for _ in range(int(epochs)):
            order = rng.permutation(n)
            for start in range(0, n, batch):
                idx = order[start : start + batch]
                xb, tb = x[idx], onehot[idx]
                log_p = _log_softmax(xb @ w.T + b)
                batch_losses.append(float(-(tb * log_p).sum(axis=1).mean()))
                g = np.exp(log_p) - tb  # [m, 3]
                w = w - self.learning_rate * (g.T @ xb / idx.shape[0])
                b = b - self.learning_rate * g.mean(axis=0)
        self.set_tensor_dict({WEIGHT: w, BIAS: b})
        loss = float(np.mean(batch_losses)) if batch_losses else 0.0
        return {
            TensorKey("loss", col_name, round_num, True, ("metric",)): np.array(loss, np.float32),
            TensorKey(WEIGHT, col_name, round_num, False, ("trained",)): self.weight.copy(),
            TensorKey(BIAS, col_name, round_num, False, ("trained",)): self.bias.copy(),
        }, {}

    def validate_task(self, col_name, round_num, input_tensor_dict, apply=None, **kwargs):
        if apply not in ("global", "local"):
            raise ValueError(f"validate_task: apply must be 'global' or 'local', got {apply!r}")
        w, b = self._weights(input_tensor_dict)
        x, y = self.data_loader.get_valid_loader()
        pred = np.argmax(x.astype(np.float64) @ w.T + b, axis=1)
        accuracy = float(np.mean(pred == y)) if y.shape[0] else 0.0
        tags = ("metric", "validate_local" if apply == "local" else "validate_agg")
        key = TensorKey("accuracy", col_name, round_num, True, tags)
        return {key: np.array(accuracy, dtype=np.float32)}, {}

    @staticmethod
    def _weights(tensor_dict):
        w = np.array(tensor_dict[WEIGHT], dtype=np.float64)
        b = np.array(tensor_dict[BIAS], dtype=np.float64)
        if w.shape != (N_CLASSES, N_FEATURES) or b.shape != (N_CLASSES,):
            raise ValueError(f"unexpected model shapes: weight {w.shape}, bias {b.shape}")
        return w, b
