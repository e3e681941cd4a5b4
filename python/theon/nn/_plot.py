"""plot_history: loss and metric curves of a fit as a PNG (needs matplotlib)."""


def plot_history(history, path="curves.png", title=None):
    """Writes the per-epoch curves of ``history`` (a History or its dict) to ``path``.

    One panel per quantity (loss, accuracy, ...), training and validation
    (``val_*``) together. Raises ImportError naming matplotlib when it is not installed.
    """
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        from matplotlib.ticker import MaxNLocator
    except ImportError as e:
        raise ImportError("theon.nn.plot_history needs matplotlib, which is not installed "
                          "(pip install matplotlib, or apt-get install python3-matplotlib)") from e
    h = getattr(history, "history", history)
    keys = [k for k in h if not k.startswith("val_") and k != "epoch_seconds"]
    if not keys:
        raise ValueError("plot_history: the history has no curves")
    fig, axes = plt.subplots(1, len(keys), figsize=(5 * len(keys), 4), squeeze=False)
    for ax, k in zip(axes[0], keys):
        epochs = range(1, len(h[k]) + 1)
        ax.plot(epochs, h[k], "o-", label="train")
        if "val_" + k in h:
            ax.plot(range(1, len(h["val_" + k]) + 1), h["val_" + k], "s-", label="validation")
        ax.set_xlabel("epoch")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_title(k)
        ax.grid(True, alpha=0.3)
        ax.legend()
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path
