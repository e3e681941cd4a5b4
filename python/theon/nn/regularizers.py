"""theon.nn.regularizers — weight penalties for kernel_regularizer / bias_regularizer."""


def l1(l1=0.01):  # noqa: E741
    return {"l1": float(l1), "l2": 0.0}


def l2(l2=0.01):
    return {"l1": 0.0, "l2": float(l2)}


def l1_l2(l1=0.01, l2=0.01):  # noqa: E741
    return {"l1": float(l1), "l2": float(l2)}
