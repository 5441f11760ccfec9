"""Reviewing the table by keyboard and by right-click: find the doubtful rows, fix their sums.

``ReviewController`` attaches to a ``MainWindow`` and adds:

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
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QAction, QGuiApplication, QKeySequence
from PySide6.QtWidgets import QMenu, QMessageBox

from digitsum_gui.corrections import where_saved
from digitsum_gui.message_boxes import open_box, open_or_offer_copy
from digitsum_gui.review_progress import ReviewProgress
from digitsum_gui.shortcuts import CLEAR_FILTER, OPEN_CELL, TYPE_SUM
from digitsum_gui.table_model import Column


class ReviewController(QObject):
    """Keyboard review, the rows' context menu and save feedback for one ``MainWindow``.

    Parameters
    ----------
    window : MainWindow
        Its ``table_view`` has the "True sum" delegate (``corrections.TrueSumDelegate``) set.
    """

    def __init__(self, window):
        super().__init__(window)
        self.window = window
        self.view, self.proxy, self.model = window.table_view, window.proxy, window.table_model

        def view_action(text, slot, shortcut=None, tip=""):
            action = QAction(text, self.view)
            if shortcut is not None:
                action.setShortcut(QKeySequence(shortcut))
                action.setShortcutContext(Qt.ShortcutContext.WidgetShortcut)  # not while a cell is edited
            action.setStatusTip(tip)
            action.triggered.connect(slot)
            self.view.addAction(action)
            return action

        self.edit_action = view_action(
            "&Edit True Sum", self.edit_current, "F2", "Type the right sum of this image (Enter saves it)"
        )
        self.accept_action = view_action(
            "&Accept Model's Sum",
            self.accept_current,
            "Space",
            "The model read this row right: its sum is saved as the true sum, and on to the next doubtful row",
        )
        self.next_action = view_action(
            "&Next Doubtful Row",
            lambda: self.next_doubtful(),
            "N",
            "The next doubtful row without a true sum (from the top after the last)",
        )
        self.previous_action = view_action(
            "&Previous Doubtful Row", self.previous_doubtful, "Shift+N", "The doubtful row above, reviewed or not"
        )
        self.clear_action = view_action(
            "C&lear True Sum",
            self.clear_selected,
            QKeySequence.StandardKey.Delete,
            "Forget the true sum of the selected rows (labels.csv is updated)",
        )
        self.open_action = view_action(
            "&Open Image", self.open_current, None, "Open this image in the system's image viewer"
        )
        self.copy_action = view_action("&Copy Path", self.copy_paths, None, "Copy the full paths of the selected files")
        self.find_action = QAction("&Find...", window)
        self.find_action.setShortcut(QKeySequence(QKeySequence.StandardKey.Find))
        self.find_action.setStatusTip("Filter the rows by file name")
        self.find_action.triggered.connect(self.focus_filter)
        window.addAction(self.find_action)

        stack = self.model.undo_stack
        self.undo_action = stack.createUndoAction(window, "&Undo")
        self.undo_action.setShortcuts(QKeySequence.keyBindings(QKeySequence.StandardKey.Undo))
        self.redo_action = stack.createRedoAction(window, "&Redo")
        # Ctrl+Shift+Z and Ctrl+Y both, whatever the platform's own habit
        self.redo_action.setShortcuts([QKeySequence("Ctrl+Shift+Z"), QKeySequence("Ctrl+Y")])
        self.undo_action.setStatusTip("Undo the last true sum typed or cleared (labels.csv goes back as it was)")
        self.redo_action.setStatusTip("Redo the true sum change just undone")
        window.addActions([self.undo_action, self.redo_action])
        stack.restored.connect(lambda text: window.status.showMessage(text, 5000))
        stack.failed.connect(self.model.labels_failed)

        edit_menu = QMenu("&Edit", window)
        edit_menu.addAction(self.undo_action)
        edit_menu.addAction(self.redo_action)
        edit_menu.addSeparator()
        edit_menu.addAction(self.find_action)
        edit_menu.addSeparator()
        for action in (self.next_action, self.previous_action, self.accept_action, self.edit_action, self.clear_action):
            edit_menu.addAction(action)
        edit_menu.addSeparator()
        for action in (self.open_action, self.copy_action):
            edit_menu.addAction(action)
        window.menuBar().insertMenu(window.view_menu.menuAction(), edit_menu)  # File, Edit, View
        edit_menu.aboutToShow.connect(self.update_row_actions)
        edit_menu.aboutToHide.connect(self._enable_row_actions)
        self.edit_menu = edit_menu

        self.view.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.view.customContextMenuRequested.connect(self.show_context_menu)
        self.view.installEventFilter(self)
        self.delegate = self.view.itemDelegateForColumn(Column.TRUE_SUM)
        if self.delegate is not None and hasattr(self.delegate, "entered"):
            self.delegate.entered.connect(self._entered)
        self.model.true_sum_saved.connect(self._say_saved)
        self.progress = ReviewProgress(window)  # "Reviewed 7 of 9 doubtful", under the table
        self._question = None  # an open question box (tests read it)
        self._said = ""  # what the last save said: the move to the next row adds to it, never hides it

    # --- where the person is ---------------------------------------------------------------
    def _current_row(self) -> int | None:
        """The proxy row of the current index, or None."""
        current = self.view.currentIndex()
        return current.row() if current.isValid() else None

    def _true_sum_index(self, proxy_row: int):
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
            self.window.status.showMessage(f"{said}. {text}" if said else text, 8000 if said else 5000)

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
        say("Every doubtful row shown has been reviewed")
        return False

    def previous_doubtful(self) -> bool:
        """Make the doubtful row above the current one current, reviewed or not (to look again at
        the one just done). Returns False, and says so, above the first."""
        start = self._current_row()
        for r in range((self.proxy.rowCount() if start is None else start) - 1, -1, -1):
            if self.model.doubtful(self.proxy.source_row(r)) and self._editable(r):
                self._go_to(r)
                return True
        self.window.status.showMessage("No doubtful row above this one", 5000)
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

    def eventFilter(self, watched, event) -> bool:
        if watched is self.view and event.type() == QEvent.Type.KeyPress:
            row = self._current_row()
            if OPEN_CELL.matches(event) and row is not None:
                return self.edit_current()
            if CLEAR_FILTER.matches(event) and self.window.filter_bar.clear_text():
                return True  # (reached only with no run going: Model > Cancel has Esc first)
            if TYPE_SUM.matches(event) and row is not None and self._editable(row):
                # a digit typed anywhere on the row is the start of its true sum: move to that
                # cell and let the view open its editor with this key (edit trigger AnyKeyPressed)
                self.view.setCurrentIndex(self._true_sum_index(row))
        return super().eventFilter(watched, event)

    def focus_filter(self) -> None:
        edit = self.window.filter_bar.text_edit
        edit.setFocus(Qt.FocusReason.ShortcutFocusReason)
        edit.selectAll()

    # --- the context menu ----------------------------------------------------------------------
    def show_context_menu(self, pos) -> QMenu | None:
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

    def _item(self, proxy_row: int):
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
            self.window,
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
            self.window.status.showMessage(f"Cleared {cleared:,} true sums (Ctrl+Z brings them back)", 10000)
        return cleared

    def open_current(self) -> bool:
        rows = self._selected_rows()
        path = self._image_path(rows[0]) if rows else None
        return path is not None and open_or_offer_copy(self.window, path, "image")

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
    def _say_saved(self, file: str, total) -> None:
        labels = self.model.labels
        where = where_saved(labels) if labels is not None else "labels.csv"
        said = f"True sum of {file} forgotten" if total is None else f"Saved: {file} is {total}"
        self._said = f"{said} ({where})"
        # longer where it went somewhere the person did not choose: they must be able to read it
        elsewhere = labels is not None and labels.uses_corrections_file
        self.window.status.showMessage(self._said, 10000 if elsewhere else 4000)
