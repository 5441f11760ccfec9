"""Reviewing the table by keyboard and by right-click: find the doubtful rows, fix their sums.

``ReviewController`` works on a ``MainWindow``'s table and adds:

- the keyboard flow: with the rows in "doubtful first" order (Alt+D), type a sum (the digits
  go to the row's "True sum" cell, whichever column is current) and press Enter, or press
  Space to accept the model's sum: it is saved, the row is reviewed, and the next doubtful
  row not yet reviewed becomes current: below, else from the top (rows that arrived or were
  sorted above the cursor are never skipped), so a hundred rows need no mouse. A doubtful row
  is reviewed once it has a true sum (``digitsum_gui.review_progress``, which also counts
  them under the table): kept in labels.csv, so a review resumes where it stopped, and Undo
  takes an acceptance back with its sum. N goes to the next doubtful row not reviewed (the
  current one skipped, not reviewed), Shift+N back to the doubtful row above, reviewed or
  not. Enter on a row, or F2, opens its cell with the model's sum in it (Enter again
  confirms it); Delete forgets a true sum (after a question whose default is No where it
  came with the folder's labels.csv or there are several); Ctrl+Z undoes a sum typed,
  accepted or cleared (a bulk clear as one step) and Ctrl+Shift+Z / Ctrl+Y redoes it, on the
  file itself (``digitsum_gui.undo``); Ctrl+F goes to the file-name filter, and Esc on the
  table empties it when no run is going (Esc cancels a run first);
- a context menu on the rows: edit or clear the true sum, open the image in the system's
  viewer, copy the file paths;
- a line in the status bar each time a sum is saved, saying where.

Its actions are the Edit menu (``action_specs``; ``digitsum_gui.menus`` places them).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, QModelIndex, QObject, QPoint, Qt
from PySide6.QtGui import QGuiApplication, QKeySequence
from PySide6.QtWidgets import QMenu, QMessageBox, QStatusBar, QTableView, QWidget

from digitsum_gui.actions import ActionSpec, make_actions
from digitsum_gui.labels_status import where_saved
from digitsum_gui.message_boxes import open_box, open_or_offer_copy
from digitsum_gui.review_progress import ReviewProgress
from digitsum_gui.shortcuts import CLEAR_FILTER, OPEN_CELL, TYPE_SUM
from digitsum_gui.table.columns import Column

if TYPE_CHECKING:
    from core.inputs.listing import InputItem
    from digitsum_gui.filter_bar import FilterBar
    from digitsum_gui.table.filter_proxy import PredictionFilterProxyModel
    from digitsum_gui.table.model import PredictionTableModel


class ReviewController(QObject):
    """Keyboard review, the rows' context menu and save feedback for one ``MainWindow``.

    Parameters
    ----------
    view : QTableView
        The table; its "True sum" delegate (``digitsum_gui.table.true_sum_editor.TrueSumDelegate``) is set.
    proxy : PredictionFilterProxyModel
        The rows as the view shows them (sorted, filtered).
    model : PredictionTableModel
        The rows themselves, their labels and the undo stack.
    status : QStatusBar
        Where saves and moves are said.
    filter_bar : FilterBar
        Ctrl+F goes to its name filter; Esc on the table empties it.
    legend : QWidget
        The line under the table where the review's progress is counted.
    parent : QWidget
        The window: questions open over it, and Undo, Redo and Find work anywhere in it.

    Attributes
    ----------
    action_specs : list of ActionSpec
        The Edit menu's actions; ``actions`` holds them made, by name.
    """

    def __init__(
        self,
        view: QTableView,
        proxy: PredictionFilterProxyModel,
        model: PredictionTableModel,
        status: QStatusBar,
        filter_bar: FilterBar,
        legend: QWidget,
        parent: QWidget,
    ):
        super().__init__(parent)
        self.parent_widget, self.status, self.filter_bar = parent, status, filter_bar
        self.view, self.proxy, self.model = view, proxy, model
        self.action_specs = self._action_specs()
        self.actions = make_actions(self.action_specs, parent)
        a = self.actions  # short names, for the code below and tests
        self.undo_action, self.redo_action, self.find_action = a["undo"], a["redo"], a["find"]
        self.next_action, self.previous_action = a["next_doubtful"], a["previous_doubtful"]
        self.accept_action, self.edit_action = a["accept_sum"], a["edit_true_sum"]
        self.clear_action = a["clear_true_sum"]
        self.open_action, self.copy_action = a["open_image"], a["copy_path"]
        parent.addActions([self.undo_action, self.redo_action, self.find_action])  # their keys work anywhere in it
        stack = self.model.undo_stack
        stack.restored.connect(lambda text: status.showMessage(text, 5000))
        stack.failed.connect(self.model.labels_failed)

        self.view.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.view.customContextMenuRequested.connect(self.show_context_menu)
        self.view.installEventFilter(self)
        self.delegate = self.view.itemDelegateForColumn(Column.TRUE_SUM)
        if self.delegate is not None and hasattr(self.delegate, "entered"):
            self.delegate.entered.connect(self._entered)
        self.model.true_sum_saved.connect(self._say_saved)
        self.progress = ReviewProgress(model, legend, self)  # "Reviewed 7 of 9 doubtful", under the table
        self._question = None  # an open question box (tests read it)
        self._said = ""  # what the last save said: the move to the next row adds to it, never hides it

    def _action_specs(self) -> list[ActionSpec]:
        """The Edit menu: Undo and Redo (the undo stack's own actions, whose text names the step),
        Find, and the table's own keys (working only while the table has the focus)."""
        stack, view = self.model.undo_stack, self.view
        return [
            ActionSpec(
                "undo",
                "&Undo",
                shortcut=tuple(QKeySequence.keyBindings(QKeySequence.StandardKey.Undo)),
                tip="Undo the last true sum typed or cleared (labels.csv goes back as it was)",
                build=lambda parent: stack.createUndoAction(parent, "&Undo"),
            ),
            ActionSpec(
                "redo",
                "&Redo",
                # Ctrl+Shift+Z and Ctrl+Y both, whatever the platform's own habit
                shortcut=("Ctrl+Shift+Z", "Ctrl+Y"),
                tip="Redo the true sum change just undone",
                build=lambda parent: stack.createRedoAction(parent, "&Redo"),
            ),
            ActionSpec(
                "find", "&Find...", self.focus_filter, QKeySequence.StandardKey.Find, "Filter the rows by file name"
            ),
            ActionSpec(
                "next_doubtful",
                "&Next Doubtful Row",
                lambda: self.next_doubtful(),
                "N",
                "The next doubtful row without a true sum (from the top after the last)",
                widget=view,
            ),
            ActionSpec(
                "previous_doubtful",
                "&Previous Doubtful Row",
                self.previous_doubtful,
                "Shift+N",
                "The doubtful row above, reviewed or not",
                widget=view,
            ),
            ActionSpec(
                "accept_sum",
                "&Accept Model's Sum",
                self.accept_current,
                "Space",
                "The model read this row right: its sum is saved as the true sum, and on to the next doubtful row",
                widget=view,
            ),
            ActionSpec(
                "edit_true_sum",
                "&Edit True Sum",
                self.edit_current,
                "F2",
                "Type the right sum of this image (Enter saves it)",
                widget=view,
            ),
            ActionSpec(
                "clear_true_sum",
                "C&lear True Sum",
                self.clear_selected,
                QKeySequence.StandardKey.Delete,
                "Forget the true sum of the selected rows (labels.csv is updated)",
                widget=view,
            ),
            ActionSpec(
                "open_image",
                "&Open Image",
                self.open_current,
                tip="Open this image in the system's image viewer",
                widget=view,
            ),
            ActionSpec(
                "copy_path",
                "&Copy Path",
                self.copy_paths,
                tip="Copy the full paths of the selected files",
                widget=view,
            ),
        ]

    def watch_menu(self, menu: QMenu) -> None:
        """Enable the row actions in ``menu`` (the Edit menu) for the selected rows while it shows."""
        menu.aboutToShow.connect(self.update_row_actions)
        menu.aboutToHide.connect(self._enable_row_actions)

    # --- where the person is ---------------------------------------------------------------
    def _current_row(self) -> int | None:
        """The proxy row of the current index, or None."""
        current = self.view.currentIndex()
        return current.row() if current.isValid() else None

    def _true_sum_index(self, proxy_row: int) -> QModelIndex:
        return self.proxy.index(proxy_row, Column.TRUE_SUM)

    def _editable(self, proxy_row: int) -> bool:
        return bool(self.proxy.flags(self._true_sum_index(proxy_row)) & Qt.ItemFlag.ItemIsEditable)

    def _selected_rows(self) -> list[int]:
        rows = {i.row() for i in self.view.selectionModel().selectedRows()}
        if not rows and (current := self._current_row()) is not None:
            rows = {current}
        return sorted(rows)

    def _go_to(self, proxy_row: int) -> None:
        index = self._true_sum_index(proxy_row)
        self.view.setCurrentIndex(index)  # selects the row (the view selects whole rows)
        self.view.scrollTo(index)
        self.view.setFocus(Qt.FocusReason.OtherFocusReason)  # (from the menu too) the next key is the row's

    def _to_review(self, proxy_row: int) -> bool:
        """Doubtful, able to take a sum (unreadable files cannot), and without one yet."""
        row = self.proxy.source_row(proxy_row)
        return self.model.doubtful(row) and self._editable(proxy_row) and not self._known(proxy_row)

    # --- the keyboard flow -------------------------------------------------------------------
    def _entered(self) -> None:
        said, self._said = self._said, ""
        self.next_doubtful(said)

    def next_doubtful(self, said: str = "") -> bool:
        """Make the next doubtful row not yet reviewed current: below the current one, else from the top.

        A row is reviewed once it has a true sum (typed, accepted, or from labels.csv): N on a
        row without one passes it by, and it comes round again after the last row. Rows that
        cannot take a sum (unreadable files) are passed over. Returns False, and says so, when
        every doubtful row shown has been reviewed. ``said``: the line that a save just showed;
        what this says is added to it, so both stay in sight.
        """

        def say(text: str) -> None:
            self.status.showMessage(f"{said}. {text}" if said else text, 8000 if said else 5000)

        start = self._current_row()
        count = self.proxy.rowCount()
        first = 0 if start is None else start + 1
        for r in (*range(first, count), *range(0, min(first, count))):  # below, then wrapped to the top
            if self._to_review(r):
                if r == start:
                    say("The last doubtful row not reviewed yet")
                elif start is not None and r < start:
                    say("Back to a doubtful row above, not reviewed yet")
                elif said:
                    say(self.progress.text())
                self._go_to(r)
                return True
        say("Every doubtful row shown has been reviewed" if self.progress.counts[1] else "No doubtful rows to review")
        return False

    def previous_doubtful(self) -> bool:
        """Make the doubtful row above the current one current, reviewed or not (to look again at
        the one just done). Returns False, and says so, above the first."""
        start = self._current_row()
        for r in range((self.proxy.rowCount() if start is None else start) - 1, -1, -1):
            if self.model.doubtful(self.proxy.source_row(r)) and self._editable(r):
                self._go_to(r)
                return True
        self.status.showMessage("No doubtful row above this one", 5000)
        return False

    def accept_current(self) -> bool:
        """The model read the current row right: save its sum as the true sum (one undo step)
        and go on to the next doubtful row not reviewed.

        A sum already known stays as it is (Space never overwrites what a person typed or a
        labels.csv says); the review moves on all the same. Returns False on a row that cannot
        take a sum.
        """
        row = self._current_row()
        if row is None or not self._editable(row):
            return False
        prediction = self.proxy.source_row(row)
        if self._known(row):
            known = self._true_sum_index(row).data(Qt.ItemDataRole.EditRole)
            self._said = f"{prediction.file} keeps its true sum {known}"
        else:
            with self.model.undo_stack.recording(f"Accept Sum of {prediction.file}"):
                if not self.proxy.setData(self._true_sum_index(row), prediction.predicted_sum):
                    return False  # not written: labels_failed said why
        self._entered()
        return True

    def edit_current(self) -> bool:
        """Open the current row's "True sum" cell for typing."""
        row = self._current_row()
        if row is None or not self._editable(row):
            return False
        index = self._true_sum_index(row)
        self.view.setCurrentIndex(index)
        self.view.edit(index)
        return True

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.view and event.type() == QEvent.Type.KeyPress:
            row = self._current_row()
            if OPEN_CELL.matches(event) and row is not None:
                return self.edit_current()
            if CLEAR_FILTER.matches(event) and self.filter_bar.clear_text():
                return True  # (reached only with no run going: Model > Cancel has Esc first)
            if TYPE_SUM.matches(event) and row is not None and self._editable(row):
                # a digit typed anywhere on the row is the start of its true sum: move to that
                # cell and let the view open its editor with this key (edit trigger AnyKeyPressed)
                self.view.setCurrentIndex(self._true_sum_index(row))
        return super().eventFilter(watched, event)

    def focus_filter(self) -> None:
        edit = self.filter_bar.text_edit
        edit.setFocus(Qt.FocusReason.ShortcutFocusReason)
        edit.selectAll()

    # --- the context menu ----------------------------------------------------------------------
    def show_context_menu(self, pos: QPoint) -> QMenu | None:
        """The rows' context menu at ``pos`` (in the view's viewport), on the row there; None off the rows."""
        index = self.view.indexAt(pos)
        if not index.isValid():
            return None
        selection = self.view.selectionModel()
        if not selection.isRowSelected(index.row()):  # right-click on another row: that row alone
            flags = selection.SelectionFlag
            selection.setCurrentIndex(index, flags.ClearAndSelect | flags.Rows)
        self.update_row_actions()
        menu = QMenu(self.view)
        menu.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        menu.aboutToHide.connect(self._enable_row_actions)
        for action in (self.edit_action, self.clear_action, None, self.open_action, self.copy_action):
            menu.addSeparator() if action is None else menu.addAction(action)
        menu.popup(self.view.viewport().mapToGlobal(pos))
        return menu

    def update_row_actions(self) -> None:
        """Enable what applies to the selected rows (before a menu shows them)."""
        rows = self._selected_rows()
        one = len(rows) == 1
        self.edit_action.setEnabled(one and self._editable(rows[0]))
        self.accept_action.setEnabled(one and self._editable(rows[0]))
        self.clear_action.setEnabled(any(self._known(r) for r in rows))
        self.open_action.setEnabled(one and self._image_path(rows[0]) is not None)
        self.copy_action.setEnabled(bool(rows))
        self.copy_action.setText("&Copy Path" if len(rows) <= 1 else f"&Copy {len(rows):,} Paths")

    def _enable_row_actions(self) -> None:
        """Menus closed: the keys (Delete, ...) work on whatever row is current next; each checks it."""
        for action in (self.edit_action, self.accept_action, self.clear_action, self.open_action, self.copy_action):
            action.setEnabled(True)

    def _known(self, proxy_row: int) -> bool:
        return self._true_sum_index(proxy_row).data(Qt.ItemDataRole.EditRole) is not None

    def _item(self, proxy_row: int) -> InputItem | None:
        return self.model.item_at(self.proxy.mapToSource(self.proxy.index(proxy_row, 0)).row())

    def _image_path(self, proxy_row: int) -> Path | None:
        """The file a viewer can open (not a row of an .npy array), or None."""
        item = self._item(proxy_row)
        if item is None or getattr(item, "index", None) is not None:
            return None
        return Path(item.path)

    def clear_selected(self) -> int:
        """Forget the true sums of the selected rows; how many were cleared.

        A sum typed in this app goes at once. A sum that came with the folder's labels.csv,
        and several sums at once (Ctrl+A then Delete must not empty labels.csv by one slip),
        go only after a question whose default is No: 0 is returned then, and Yes clears
        them. Either way Edit > Undo brings them back, a bulk clear as one step.
        """
        rows = [r for r in self._selected_rows() if self._known(r)]
        files = {self.proxy.source_row(r).file for r in rows}  # by name: the rows may move while it asks
        labels = self.model.labels
        came_with_folder = sorted(f for f in files if not labels.typed(f)) if labels is not None else []
        if len(rows) <= 1 and not came_with_folder:
            return self._clear(rows)
        if len(rows) == 1:
            text = f"Forget the true sum of {came_with_folder[0]}? It came with the folder's labels.csv."
        else:
            text = f"Forget the true sums of {len(rows):,} rows? They are removed from labels.csv."
        self._question = open_box(
            self.parent_widget,
            QMessageBox.Icon.Warning,
            "Forget true sums?" if len(rows) > 1 else "Forget the true sum?",
            text,
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
            informative=f"Edit > Undo (Ctrl+Z) brings {'them' if len(rows) > 1 else 'it'} back.",
            on_yes=lambda: self._clear(self._rows_named(files)),
            default=QMessageBox.StandardButton.No,
        )
        return 0

    def _rows_named(self, files: set[str]) -> list[int]:
        return [r for r in range(self.proxy.rowCount()) if self.proxy.source_row(r).file in files]

    def _clear(self, proxy_rows: list[int]) -> int:
        if len(proxy_rows) == 1:  # as typed: saved, said in the status bar
            with self.model.undo_stack.recording(f"Clear True Sum of {self.proxy.source_row(proxy_rows[0]).file}"):
                return int(self._known(proxy_rows[0]) and self.proxy.setData(self._true_sum_index(proxy_rows[0]), None))
        source = [self.proxy.mapToSource(self.proxy.index(r, 0)).row() for r in proxy_rows]
        # one write and one undo step for them all
        cleared = self.model.forget_true_sums(source, f"Clear {len(proxy_rows):,} True Sums")
        if cleared:
            self.status.showMessage(f"Cleared {cleared:,} true sums (Ctrl+Z brings them back)", 10000)
        return cleared

    def open_current(self) -> bool:
        rows = self._selected_rows()
        path = self._image_path(rows[0]) if rows else None
        return path is not None and open_or_offer_copy(self.parent_widget, path, "image")

    def copy_paths(self) -> str:
        """Copy the selected rows' full paths (``.npy`` rows as ``FILE.npy:INDEX``), one a line."""
        lines = []
        for r in self._selected_rows():
            item = self._item(r)
            if item is not None:
                index = getattr(item, "index", None)
                lines.append(str(item.path) + (f":{index}" if index is not None else ""))
        text = "\n".join(lines)
        QGuiApplication.clipboard().setText(text)
        return text

    # --- feedback ------------------------------------------------------------------------------
    def _say_saved(self, file: str, total: int | None) -> None:
        labels = self.model.labels
        where = where_saved(labels) if labels is not None else "labels.csv"
        said = f"True sum of {file} forgotten" if total is None else f"Saved: {file} is {total}"
        self._said = f"{said} ({where})"
        # longer where it went somewhere the person did not choose: they must be able to read it
        self.status.showMessage(self._said, 10000 if labels is not None and labels.uses_corrections_file else 4000)
