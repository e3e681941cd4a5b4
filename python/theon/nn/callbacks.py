"""theon.nn.callbacks — hooks into Model.fit (C++ classes of theon/nn/callbacks.h).

Subclass Callback and define any of on_train_begin(logs), on_train_end(logs),
on_epoch_begin(epoch, logs), on_epoch_end(epoch, logs), on_batch_begin(batch,
logs), on_batch_end(batch, logs); call ``super().__init__()`` in ``__init__``.
``self.model`` is the model being trained (set ``self.model.stop_training = True``
to stop after the epoch).
"""
from theon import _core

_nn = _core.nn

Callback = _nn.Callback
EarlyStopping = _nn.EarlyStopping
ModelCheckpoint = _nn.ModelCheckpoint
CSVLogger = _nn.CSVLogger
LearningRateScheduler = _nn.LearningRateScheduler

__all__ = ["Callback", "EarlyStopping", "ModelCheckpoint", "CSVLogger", "LearningRateScheduler"]
