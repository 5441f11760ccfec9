"""The choices of the Retrain dialog: data, starting point, model, schedule, device.

``TrainForm.options()`` returns a ``core.train.command.TrainOptions`` (without ``--out`` and
``--compare``, which the dialog adds); ``changed`` fires on every edit so the dialog can
show the exact command it would run.
"""

from __future__ import annotations

import os
import shlex
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QRadioButton,
    QSpinBox,
    QStyle,
    QVBoxLayout,
    QWidget,
)

from core.devices import gpu_status
from core.errors import InputError
from core.inputs.arrays import ARRAY_FORMATS, label_twin
from core.labels.labelled_set import labelled_count
from core.labels.labels_csv import LABELS_NAME
from core.spec import ARCHS, heads_of
from core.train.command import TrainOptions, default_hyperparameters, form_controls, keeping_what_it_reads
from core.train.datasets import MIN_REAL_FOR_VAL, real_val_count
from digitsum_gui.message_boxes import show_error
from digitsum_gui.retrain.controls import control_value, make_control, set_control_value
from digitsum_gui.style import problem_style

if TYPE_CHECKING:
    from core.labels.folder_labels import FolderLabels
    from core.models.store import StoredModel

# below this many validation images one image is over 1 point of accuracy: "better" means little
MIN_USEFUL_VAL = 100


class TrainForm(QWidget):
    """The options form.

    Parameters
    ----------
    current : core.models.store.StoredModel or None
        The model in use (fine-tuning starts from it).
    folder_labels : core.labels.folder_labels.FolderLabels or None
        The open folder's labels and corrections.
    """

    changed = Signal()
    options_type = TrainOptions  # its fields with control(...) metadata become the Schedule group's rows

    def __init__(
        self,
        current: StoredModel | None = None,
        folder_labels: FolderLabels | None = None,
        parent: QWidget | None = None,
    ):
        super().__init__(parent)
        self.current = current
        self.folder_labels = folder_labels
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.data_box = self._data_group()
        layout.addWidget(self.data_box)
        row = QHBoxLayout()
        row.addWidget(self._model_group())
        row.addWidget(self._schedule_group())
        layout.addLayout(row)
        self._fill_defaults()

    # --- building ------------------------------------------------------------------------------
    def _data_group(self) -> QGroupBox:
        """Training data: the open folder's labels, other labelled data, synthetic images, and a
        note on how many images that makes."""
        box = QGroupBox("Training data")
        form = QVBoxLayout(box)
        form.addWidget(self._this_folder_check())
        form.addLayout(self._other_data_row())
        form.addLayout(self._synthetic_row())
        form.addWidget(self._data_note_label())
        self._connect_data_group()
        return box

    def _this_folder_check(self) -> QCheckBox:
        """Train on the open folder's true sums: ticked when it has some, disabled when none."""
        n = len(self.folder_labels) if self.folder_labels is not None else 0
        where = (
            f"{n} labelled images in {self.folder_labels.folder.name}"
            if self.folder_labels is not None
            else "no folder is open"
        )
        self.this_folder = QCheckBox(f"This folder's labels and corrections ({where})")
        self.this_folder.setToolTip(
            "Train on the true sums of the open folder (labels.csv and what you typed); "
            "a tenth of them is kept aside to validate on"
        )
        self.this_folder.setEnabled(n > 0)
        self.this_folder.setChecked(n > 0)
        return self.this_folder

    def _other_data_row(self) -> QHBoxLayout:
        """Other labelled folders and arrays: their list, and buttons to add and remove them."""
        others = QHBoxLayout()
        self.other_data = QListWidget()
        self.other_data.setMaximumHeight(64)
        self.other_data.setToolTip(
            "Other labelled folders (with labels.csv) and data*.npy files (with lab*.npy beside them)"
        )
        buttons = QVBoxLayout()
        self.add_folder = QPushButton("Add folder\u2026")
        self.add_folder.setToolTip("Another folder of images with a labels.csv (header filename,sum)")
        self.add_npy = QPushButton("Add .npy\u2026")
        self.add_npy.setToolTip("An image array data0.npy of shape (N, 40, 168), with its sums lab0.npy beside it")
        self.remove_data = QPushButton("Remove")
        self.remove_data.setToolTip("Leave the selected folder or file out of this run")
        for b in (self.add_folder, self.add_npy, self.remove_data):
            buttons.addWidget(b)
        others.addWidget(self.other_data, 1)
        others.addLayout(buttons)
        return others

    def _synthetic_row(self) -> QHBoxLayout:
        """Synthetic images: whether, how many per epoch, whose digits, how many to validate on."""
        synth = QHBoxLayout()
        self.synthetic = QCheckBox("Synthetic images composed from MNIST digits:")
        self.synthetic.setToolTip(
            "Images composed afresh every epoch from handwritten digits whose sums are known. "
            "They give a run images to validate on, and keep a fine-tuned model from "
            "forgetting what it knew while it learns your corrections."
        )
        # ticked from the start: a folder of corrections alone leaves too few images to tell a
        # better model from a worse one, and a fine-tune on them alone forgets other hands
        self.synthetic.setChecked(True)
        self.synthetic_count = QSpinBox()
        # any count the command takes; a value typed out of range becomes the nearest one, visibly
        self.synthetic_count.setRange(1, 10_000_000)
        self.synthetic_count.setCorrectionMode(QSpinBox.CorrectionMode.CorrectToNearestValue)
        self.synthetic_count.setValue(2000)
        self.synthetic_count.setSuffix(" per epoch")
        self.synthetic_count.setToolTip(
            "Composed training images per epoch (1 or more). Fine-tuning on corrections: "
            "a few thousand; training a model from scratch: 100,000 or more, on a GPU."
        )
        self.mnist = QLineEdit()
        self.mnist.setPlaceholderText("bundled digit bank (or an MNIST .npz / folder)")
        self.mnist.setToolTip(
            "Where the digits come from: empty for the small bank bundled with the app, or "
            "MNIST as an .npz (x, y) or torchvision's folder for more variety"
        )
        self.mnist_browse = QPushButton("Browse\u2026")
        self.mnist_browse.setToolTip("Choose an MNIST .npz file")
        self.val_size = QSpinBox()
        self.val_size.setRange(1, 100_000)
        self.val_size.setCorrectionMode(QSpinBox.CorrectionMode.CorrectToNearestValue)
        self.val_size.setValue(1000)
        self.val_size.setPrefix("validation ")
        self.val_size.setToolTip(
            "Composed images (1 or more) the run is scored on after each epoch; it keeps the "
            "best epoch. 1,000 tells models apart to about a point; 100 only to about five."
        )
        for w in (self.synthetic, self.synthetic_count, self.mnist, self.mnist_browse, self.val_size):
            synth.addWidget(w, 1 if w is self.mnist else 0)
        return synth

    def _data_note_label(self) -> QLabel:
        """How many images the data chosen makes, or why a run could not start (``_on_changed``)."""
        self.data_note = QLabel()
        self.data_note.setWordWrap(True)
        # room for two lines at any width: a wrapped label's height is not always asked again
        self.data_note.setMinimumHeight(self.data_note.fontMetrics().lineSpacing() * 2 + 4)
        return self.data_note

    def _connect_data_group(self) -> None:
        """The buttons open their file dialogs; every edit updates the note and the command."""
        self.add_folder.clicked.connect(self._choose_folder)
        self.add_npy.clicked.connect(self._choose_npy)
        self.remove_data.clicked.connect(self._remove_selected)
        self.mnist_browse.clicked.connect(self._choose_mnist)
        for w in (self.this_folder, self.synthetic):
            w.toggled.connect(self._on_changed)
        for w in (self.synthetic_count, self.val_size):
            w.valueChanged.connect(self._on_changed)
        self.mnist.textChanged.connect(self._on_changed)

    def _model_group(self) -> QGroupBox:
        box = QGroupBox("Start from")
        form = QFormLayout(box)
        self.fine_tune = QRadioButton()
        self.fine_tune.setToolTip(
            "Start from the model in use and adapt it to this data: a few epochs at a low "
            "learning rate. The model in use itself is never changed."
        )
        self.scratch = QRadioButton("A new model from scratch")
        self.scratch.setToolTip(
            "Start from ImageNet weights (ResNet-50) or random ones (baseline): needs far more "
            "images and time, best on a GPU"
        )
        self.keep_reading = QCheckBox("Keep what it reads: learn from it too")
        self.keep_reading.setToolTip(
            "While it learns your images, the new model also learns the digits the model in use "
            "reads right, and keeps its first layers and batch-norm statistics as they are "
            "(--distill, --freeze-bn, --frozen-stages 2). Without it a fine-tune tends to read "
            "other handwriting worse. Only for a model with the digits head."
        )
        self.keep_reading.setChecked(True)
        self._show_current()
        (self.fine_tune if self.current is not None else self.scratch).setChecked(True)
        form.addRow(self.fine_tune)
        form.addRow(self._indented(self.keep_reading))
        form.addRow(self.scratch)
        self.arch = QComboBox()
        self.arch.addItems(list(ARCHS))
        self.arch.setToolTip(
            "resnet50: the accurate network (slow on a CPU); baseline: the report's small CNN, "
            "fast but about 13% accurate"
        )
        self.head = QComboBox()
        self.head.setToolTip(
            "digits: reads the four digits and adds them up (learns from digits or sums alone; "
            "recommended); sum: predicts the sum directly, as in the report"
        )
        form.addRow("Network:", self.arch)
        form.addRow("Head:", self.head)
        self.device = QComboBox()
        gpus, why_none = gpu_status()
        for spec, gpu_name in gpus:
            self.device.addItem(f"GPU: {gpu_name} ({spec})", spec)
        self.device.addItem("CPU", "cpu")
        self.device.setToolTip("Where the training runs: a GPU is tens of times faster than the CPU")
        # one short line (the reason in its tooltip): a wrapped note was cut off by the group's border
        self.device_note = QLabel("" if gpus else "No GPU found: training runs on the CPU.")
        self.device_note.setToolTip("" if gpus else f"No GPU: {why_none}.")
        self.device_note.setVisible(not gpus)
        form.addRow("Device:", self.device)
        form.addRow(self.device_note)
        self.fine_tune.toggled.connect(self._start_changed)
        self.keep_reading.toggled.connect(self._on_changed)
        self.arch.currentTextChanged.connect(self._arch_changed)
        self.head.currentTextChanged.connect(lambda _: self._fill_defaults())
        self.device.currentIndexChanged.connect(self._on_changed)
        return box

    def _schedule_group(self) -> QGroupBox:
        box = QGroupBox("Schedule")
        form = QFormLayout(box)
        self.controls: dict[str, QWidget] = {}  # one per TrainOptions field with control(...) metadata
        for name, kind, spec, default in form_controls(self.options_type):
            widget = make_control(kind, spec, default, self._on_changed)
            form.addRow(spec.label, widget)
            self.controls[name] = widget
        self.extra = QLineEdit()
        self.extra.setPlaceholderText("e.g. --seed 1 --threads 4")
        self.extra.setToolTip("More flags for digitsum train, passed as typed (see digitsum train --help)")
        form.addRow("Extra flags:", self.extra)
        self.extra.textChanged.connect(self._on_changed)
        return box

    def _indented(self, widget: QWidget) -> QWidget:
        """``widget`` under the radio button before it, lined up with its text: its sub-choice."""
        style, metric = self.style(), QStyle.PixelMetric
        row = QWidget()
        layout = QHBoxLayout(row)
        indent = style.pixelMetric(metric.PM_ExclusiveIndicatorWidth) + style.pixelMetric(
            metric.PM_RadioButtonLabelSpacing
        )
        layout.setContentsMargins(indent, 0, 0, 0)
        layout.addWidget(widget)
        return row

    # --- behaviour -----------------------------------------------------------------------------
    def keeps_reading(self) -> bool:
        """Whether the run keeps what the model in use reads (a fine-tune of a digits model, ticked).

        From the choices, not from the box's enabled state: the dialog disables the whole form
        while a run goes on.
        """
        return self._may_keep_reading() and self.keep_reading.isChecked()

    def _may_keep_reading(self) -> bool:
        # --distill reads the digits the model in use reads: the sum head has none
        return self.fine_tune.isChecked() and self.current is not None and self.current.head == "digits"

    def _show_current(self) -> None:
        name = self.current.label if self.current is not None else "no model in use"
        # a long run name is shortened in the middle (its time and network stay readable), not
        # allowed to widen the group until the dialog no longer fits a laptop's screen
        shown = self.fine_tune.fontMetrics().elidedText(name, Qt.TextElideMode.ElideMiddle, 300)
        self.fine_tune.setText(f"Fine-tune the model in use ({shown})")
        self.fine_tune.setEnabled(self.current is not None)
        self._enable_keep_reading()

    def _enable_keep_reading(self) -> None:
        self.keep_reading.setEnabled(self._may_keep_reading())

    def set_current(self, current: StoredModel | None) -> None:
        """The model in use changed (loaded, or switched to): fine-tuning starts from ``current``."""
        self.current = current
        self._show_current()
        if current is None:
            self.scratch.setChecked(True)
        same_network = current is not None and (current.arch, current.head) == (
            self.arch.currentText(),
            self.head.currentText(),
        )
        if same_network:  # keep the schedule the user chose
            self.changed.emit()
        else:
            self._start_changed()

    def _start_changed(self, _checked: bool | None = None) -> None:
        fine = self.fine_tune.isChecked()
        if fine and self.current is not None:  # a fine-tuned model keeps its network
            self.arch.setCurrentText(self.current.arch)
            self.head.setCurrentText(self.current.head)
        self.arch.setEnabled(not fine)
        self.head.setEnabled(not fine)
        self._enable_keep_reading()
        self._fill_defaults()

    def _arch_changed(self, arch: str) -> None:
        wanted = self.head.currentText()
        self.head.blockSignals(True)
        self.head.clear()
        self.head.addItems(list(heads_of(arch)))
        if wanted in heads_of(arch):
            self.head.setCurrentText(wanted)
        self.head.blockSignals(False)
        self._fill_defaults()

    def _fill_defaults(self) -> None:
        if self.head.count() == 0:
            self._arch_changed(self.arch.currentText())
            if self.fine_tune.isChecked():
                self._start_changed()
            return
        hp = default_hyperparameters(self.arch.currentText(), self.head.currentText(), self.fine_tune.isChecked())
        for name, value in hp.items():
            widget = self.controls[name]
            widget.blockSignals(True)
            set_control_value(widget, value)
            widget.blockSignals(False)
        self._on_changed()

    def start_problem(self) -> str:
        """Why this run would fail at once (Start stays disabled and the note says it), or ""."""
        if not self.data_specs():
            return "Choose some training data."
        if self.val_image_count() == 0:
            return (
                f"Fewer than {MIN_REAL_FOR_VAL} labelled images: a run needs images to validate on. Tick "
                "\u201cSynthetic images\u201d (they also keep the model from forgetting what it knew)."
            )
        return ""

    def _on_changed(self, *_args) -> None:
        val = self.val_image_count()
        problem = self.start_problem()
        self.data_note.setStyleSheet(problem_style(bool(problem)))
        if problem:
            note = problem
        elif val < MIN_USEFUL_VAL and not self.synthetic.isChecked():
            note = (
                f"{self.train_image_count():,} training images per epoch, but only {val} to validate on: "
                "too few to tell a better model from a worse one. Add synthetic images."
            )
        else:
            note = f"{self.train_image_count():,} training images per epoch, {val:,} for validation."
        self.data_note.setText(note)
        self.changed.emit()

    def _remove_selected(self) -> None:
        for item in self.other_data.selectedItems():
            self.other_data.takeItem(self.other_data.row(item))
        self._on_changed()

    def _choose_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Add a labelled folder")
        if folder:
            self.add_data(folder)

    def _choose_npy(self) -> None:
        patterns = " ".join(f"{fmt.data_name.format('*')} *{fmt.suffix}" for fmt in ARRAY_FORMATS.values())
        path, _ = QFileDialog.getOpenFileName(self, "Add a data .npy file", "", f"Image arrays ({patterns})")
        if path:
            self.add_data(path)

    def _choose_mnist(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "MNIST digits", "", "MNIST (*.npz);;All files (*)")
        if path:
            self.mnist.setText(path)

    def add_data(self, spec: str, quiet: bool = False) -> bool:
        """Add a labelled folder or array file (``.npy``); refuses (with a message, unless
        ``quiet``) one without labels."""
        path = Path(spec)
        problem = ""
        if path.is_dir() and not (path / LABELS_NAME).is_file():
            problem = f"{path} has no labels.csv (header filename,sum)."
        elif path.is_file():
            try:
                label_twin(path)
            except InputError as exc:
                problem = str(exc)
        elif not path.exists():
            problem = f"{path} does not exist."
        if problem:
            if not quiet:
                show_error(self, "Cannot train on this", problem)
            return False
        item = QListWidgetItem(str(path))
        # counted once, here: the counts are summed again on every edit of the form (a
        # 100,000-row labels.csv takes ~0.1 s to read, on the GUI thread)
        item.setData(Qt.ItemDataRole.UserRole, labelled_count(path))
        self.other_data.addItem(item)
        self._on_changed()
        return True

    # --- results -------------------------------------------------------------------------------
    def data_specs(self, stage_dir: str | os.PathLike | None = None) -> list[str]:
        """The ``--data`` specs.

        Corrections kept in a corrections file (a read-only folder) are trained from ``stage_dir``,
        which ``stage`` fills just before the run starts.
        """
        specs = []
        if self.this_folder.isChecked() and self.folder_labels is not None:
            if stage_dir is not None and self.folder_labels.uses_corrections_file:
                specs.append(str(stage_dir))
            else:
                specs.append(str(self.folder_labels.folder))
        specs += [self.other_data.item(i).text() for i in range(self.other_data.count())]
        if self.synthetic.isChecked():
            specs.append(f"synthetic:{self.synthetic_count.value()}")
        return specs

    def stage(self, stage_dir: str | os.PathLike) -> None:
        """Fill ``stage_dir`` with the open folder's labels where they live in a corrections file."""
        if self.this_folder.isChecked() and self.folder_labels is not None and self.folder_labels.uses_corrections_file:
            self.folder_labels.training_spec(stage_dir)

    def real_image_count(self) -> int:
        n = len(self.folder_labels) if self.this_folder.isChecked() and self.folder_labels is not None else 0
        return n + sum(self.other_data.item(i).data(Qt.ItemDataRole.UserRole) for i in range(self.other_data.count()))

    def train_image_count(self) -> int:
        real = self.real_image_count()
        return real - real_val_count(real) + (self.synthetic_count.value() if self.synthetic.isChecked() else 0)

    def val_image_count(self) -> int:
        return real_val_count(self.real_image_count()) + (self.val_size.value() if self.synthetic.isChecked() else 0)

    def options(self, stage_dir: str | os.PathLike | None = None) -> TrainOptions:
        """The run as chosen (``out`` and ``compare`` left for the dialog)."""
        fine = self.fine_tune.isChecked() and self.current is not None
        keeping = keeping_what_it_reads(str(self.current.path)) if self.keeps_reading() else {}
        return self.options_type(
            data=self.data_specs(stage_dir),
            mnist=(self.mnist.text().strip() or None) if self.synthetic.isChecked() else None,
            arch=self.arch.currentText(),
            head=self.head.currentText(),
            init=str(self.current.path) if fine else None,
            device=self.device.currentData(),
            val_size=self.val_size.value() if self.synthetic.isChecked() else None,
            extra=self.extra_args(),
            **keeping,
            **{name: control_value(widget) for name, widget in self.controls.items()},
        )

    def extra_args(self) -> list[str]:
        try:
            return shlex.split(self.extra.text())
        except ValueError:  # an unclosed quote while typing
            return self.extra.text().split()
