"""Model > Retrain...: the dialog, its form, the training child process, its progress and chart.

- ``controller``: ``RetrainController``, the Model menu's Retrain and Manage Models entries,
  switching models and the close guard, attached to the main window;
- ``dialog``: ``TrainDialog``, choose, run, then offer the new model;
- ``form``: ``TrainForm``, the choices, as a ``core.train.command.TrainOptions``;
- ``remembered``: the form's choices, kept in the app's settings from one opening to the next;
- ``process``: ``TrainingRun``, ``digitsum train --progress json`` in a ``QProcess``;
- ``progress``, ``clock``, ``chart``: the dialog's lower half, speed and time left, the live chart.

Importing this package imports nothing heavy: ``dialog`` (and with it torch, through
``core.train.script``) is imported when the dialog first opens.
"""
