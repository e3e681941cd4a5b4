"""theon.nn models from Python: fit/evaluate/predict, Python callbacks called
from the C++ loop, saving and loading (also across C++ and Python)."""
import os
import pathlib
import re
import subprocess

import numpy as np
import pytest

from theon import nn


def blobs(n, seed):
    rng = np.random.default_rng(seed)
    y = np.arange(n) % 3
    x = rng.standard_normal((n, 8)).astype(np.float32)
    x[np.arange(n), y] += 3
    return x, y


def mlp():
    return nn.Sequential([nn.Dense(16, activation="relu"), nn.Dropout(0.1), nn.Dense(3)])


def test_fit_evaluate_predict_and_history():
    nn.set_global_seed(1)
    x, y = blobs(250, 0)
    model = mlp()
    model.compile(optimizer=nn.optimizers.Adam(1e-2), loss="sparse_categorical_crossentropy", from_logits=True,
                  metrics=["accuracy", "top_2_accuracy"])
    hist = model.fit(x, y, batch_size=32, epochs=4, verbose=0, validation_data=(x[:50], y[:50]))
    assert set(hist.history) >= {"loss", "accuracy", "top_2_accuracy", "val_loss", "val_accuracy"}
    assert hist.epoch == [0, 1, 2, 3]
    assert hist.history["loss"][-1] < hist.history["loss"][0]
    loss, acc, top2 = model.evaluate(x, y)
    assert acc > 0.9 and top2 >= acc
    probs = model.predict(x, batch_size=64)
    assert probs.shape == (250, 3)
    np.testing.assert_allclose(np.mean(probs.argmax(1) == y), acc, atol=1e-6)
    assert len(model.params) == 4 and model.count_params() == 8 * 16 + 16 + 16 * 3 + 3


def test_python_callbacks_run_inside_the_cpp_loop():
    nn.set_global_seed(2)
    x, y = blobs(100, 1)
    model = mlp()
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy", from_logits=True)

    class Recorder(nn.Callback):
        def __init__(self):
            super().__init__()
            self.events = []

        def on_train_begin(self, logs):
            self.events.append("begin")

        def on_batch_end(self, batch, logs):
            self.events.append(("batch", batch, round(logs["size"]) if "size" in logs else None))

        def on_epoch_end(self, epoch, logs):
            self.events.append(("epoch", epoch, logs["loss"]))
            if epoch == 1:
                self.model.stop_training = True

    rec = Recorder()
    rates = []

    def schedule(epoch, lr):
        rates.append(lr)
        return 0.1 * 0.5 ** epoch

    hist = model.fit(x, y, batch_size=30, epochs=10, verbose=0,
                     callbacks=[rec, nn.LearningRateScheduler(schedule)])
    assert rec.events[0] == "begin"
    assert [e[1] for e in rec.events if e[0] == "epoch"] == [0, 1]  # stopped by the callback
    assert sum(1 for e in rec.events if e[0] == "batch") == 2 * 4  # 100 = 3 * 30 + 10: four batches
    assert len(hist.history["loss"]) == 2
    assert model.optimizer.learning_rate == pytest.approx(0.05)

    class Broken(nn.Callback):
        def on_epoch_end(self, epoch, logs):
            raise RuntimeError("callback failed")

    with pytest.raises(RuntimeError, match="callback failed"):
        model.fit(x, y, epochs=1, verbose=0, callbacks=[Broken()])


def test_functional_model_and_early_stopping(tmp_path):
    nn.set_global_seed(3)
    inp = nn.Input((8,))
    h = nn.Dense(8, activation="relu")(inp)
    r = nn.Add()([inp, nn.Dense(8)(h)])
    out = nn.Dense(3)(nn.Concatenate()([r, h]))
    model = nn.Model(inp, out)
    x, y = blobs(90, 2)
    model.compile(optimizer=nn.optimizers.SGD(0.05, momentum=0.9), loss="sparse_categorical_crossentropy",
                  from_logits=True, metrics=["accuracy"])
    es = nn.EarlyStopping(monitor="loss", patience=1, mode="max")
    csv = tmp_path / "log.csv"
    hist = model.fit(x, y, batch_size=16, epochs=8, verbose=0, callbacks=[es, nn.CSVLogger(str(csv))])
    assert len(hist.history["loss"]) == 2 and es.stopped_epoch == 1
    lines = csv.read_text().strip().splitlines()
    assert lines[0].startswith("epoch,accuracy,") and len(lines) == 3


def test_save_load_round_trip_is_bit_exact(tmp_path):
    nn.set_global_seed(4)
    x, y = blobs(64, 3)
    model = nn.Sequential([nn.Dense(16, activation="relu"), nn.BatchNorm(axis=-1), nn.Dense(3)])
    model.compile(optimizer=nn.optimizers.Adam(1e-2), loss="sparse_categorical_crossentropy", from_logits=True,
                  metrics=["accuracy"])
    model.fit(x, y, batch_size=16, epochs=2, verbose=0)
    path = tmp_path / "m.theon"
    model.save(path)
    loaded = nn.load_model(path)
    assert isinstance(loaded, nn.Sequential)
    for a, b in zip(model.get_weights(), loaded.get_weights()):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(model.predict(x), loaded.predict(x))
    assert loaded.evaluate(x, y) == model.evaluate(x, y)
    assert loaded.optimizer.name == "adam"
    for a, b in zip(model.optimizer.variables, loaded.optimizer.variables):
        np.testing.assert_array_equal(a.get_value(), b.get_value())
    # Weights only, and the NumPy export readable by numpy itself.
    model.save_weights(str(tmp_path / "w.npz"))
    with np.load(tmp_path / "w.npz") as z:
        np.testing.assert_array_equal(z[model.weights[0].name.replace("/", "/")], model.get_weights()[0])
    fresh = nn.Sequential([nn.Dense(16, activation="relu"), nn.BatchNorm(axis=-1), nn.Dense(3)])
    fresh.build([8])
    fresh.load_weights(str(tmp_path / "w.npz"))
    np.testing.assert_array_equal(fresh.predict(x), model.predict(x))
    # Damaged files fail cleanly.
    data = path.read_bytes()
    (tmp_path / "cut.theon").write_bytes(data[: len(data) // 2])
    with pytest.raises(RuntimeError):
        nn.load_model(tmp_path / "cut.theon")


def _example_binary():
    root = pathlib.Path(__file__).resolve().parents[2]
    dirs = [os.environ.get("THEON_BUILD_DIR"), root / "build" / "dev", root / "build"]
    exes = [pathlib.Path(d) / "examples" / "fashion_mnist_cnn" for d in dirs if d]
    exe = next((str(e) for e in exes if e.exists()), None)
    if exe is None:
        pytest.skip("the C++ example fashion_mnist_cnn is not built")
    try:
        from theon.datasets import fashion_mnist

        fashion_mnist()
    except Exception as e:  # noqa: BLE001
        pytest.skip(f"Fashion-MNIST is not available: {e}")
    return exe


def test_cpp_saved_model_loads_in_python_and_back(tmp_path):
    exe = _example_binary()
    from theon.datasets import fashion_mnist

    (_, _), (xt, yt) = fashion_mnist()
    xt, yt = xt[:1000].reshape(-1, 1, 28, 28), yt[:1000]
    # C++ trains and saves; Python loads and gets the accuracy C++ printed.
    path = tmp_path / "cpp.theon"
    out = subprocess.run([exe, "1", "600", str(path)], capture_output=True, text=True, check=True).stdout
    cpp_acc = float(re.search(r"reloaded from .*: test accuracy ([0-9.]+)", out).group(1))
    loaded = nn.load_model(path)
    assert loaded.evaluate(xt, yt, return_dict=True)["accuracy"] == pytest.approx(cpp_acc, abs=1e-6)
    # Python trains further and saves; C++ loads and gets Python's accuracy.
    loaded.fit(xt[:300], yt[:300], epochs=1, verbose=0)
    path2 = tmp_path / "py.theon"
    loaded.save(path2)
    py_acc = loaded.evaluate(xt, yt, return_dict=True)["accuracy"]
    out = subprocess.run([exe, "--evaluate", str(path2), "1000"], capture_output=True, text=True, check=True).stdout
    assert float(re.search(r"test accuracy ([0-9.]+)", out).group(1)) == pytest.approx(py_acc, abs=1e-6)


def test_plot_history(tmp_path):
    hist = nn.History({"loss": [1.0, 0.5], "val_loss": [1.1, 0.7], "accuracy": [0.5, 0.8]}, [0, 1])
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        with pytest.raises(ImportError, match="matplotlib"):
            nn.plot_history(hist, str(tmp_path / "c.png"))
        return
    p = nn.plot_history(hist, str(tmp_path / "c.png"))
    assert open(p, "rb").read(8) == b"\x89PNG\r\n\x1a\n"


def test_clear_errors():
    model = mlp()
    x, y = blobs(10, 4)
    with pytest.raises(RuntimeError, match="compile"):
        model.fit(x, y, verbose=0)
    with pytest.raises(ValueError, match="unknown loss"):
        model.compile(optimizer="adam", loss="hinge_of_doom")
    model.compile(optimizer="adam", loss="mse")
    with pytest.raises(ValueError):
        model.fit(x, y, verbose=0)  # mse wants targets of the prediction's rank
