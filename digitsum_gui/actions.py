"""What a menu entry is, as data: ``ActionSpec``, and the one function that makes its ``QAction``.

Every action of the window (its own, and those of the controllers: review, labels backup,
retrain, samples, shortcuts help) is an ``ActionSpec`` in a list its owner exposes as
``action_specs`` (napari's ``qactions`` are the model). ``make_actions`` turns them into
``QAction``s, which the owner keeps as ``actions`` (it enables them, renames them);
``digitsum_gui.menus.install`` places them in the menus and the toolbar in the fixed order
of ``digitsum_gui.menus.MENUS``, whichever part was made first. Nothing else makes an
action, so a shortcut, a tip or an icon is set one way.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from PySide6.QtCore import QObject, Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QStyle, QWidget

# a key as Qt takes it: "Ctrl+E", a platform's standard key (its first binding), or several keys
Shortcut = str | QKeySequence | QKeySequence.StandardKey | tuple


@dataclass(frozen=True)
class ActionSpec:
    """One action: what it says, its keys, what it does.

    Attributes
    ----------
    name : str
        Its key in the menus' layout (``digitsum_gui.menus.MENUS``) and in ``Menus.actions``.
    text : str
        The menu text, with its ``&`` mnemonic.
    slot : callable
        Called on ``triggered``: by the user or ``trigger()``, never by ``setChecked`` from
        code (a checkable action's slot gets the new state).
    shortcut : str, QKeySequence, QKeySequence.StandardKey or tuple of them, optional
        Its key (of a standard key, the platform's first binding, as ``QKeySequence(key)``);
        a tuple gives all of them (Ctrl+Shift+Z and Ctrl+Y).
    tip : str
        Status tip and tooltip.
    icon : QStyle.StandardPixmap, optional
        The style's icon (for the toolbar).
    checkable, checked : bool
        A toggle, and its state at start.
    enabled_when : callable, optional
        Asked by ``update_enabled`` whether the action applies now (None: always).
    widget : QWidget, optional
        The action belongs to this widget (the table's own keys): added to it, with its
        shortcut working only while that widget has the focus (not while a cell is edited).
    build : callable, optional
        ``build(parent) -> QAction`` for an action that another object makes (an undo stack's
        Undo, whose text follows the stack); the spec's keys and tip are set on it, and
        ``slot`` is not connected.
    """

    name: str
    text: str
    slot: Callable[..., object] | None = None
    shortcut: Shortcut | None = None
    tip: str = ""
    icon: QStyle.StandardPixmap | None = None
    checkable: bool = False
    checked: bool = False
    enabled_when: Callable[[], bool] | None = None
    widget: QWidget | None = None
    build: Callable[[QObject], QAction] | None = None


def _key_sequences(shortcut: Shortcut) -> list[QKeySequence]:
    keys = shortcut if isinstance(shortcut, tuple) else (shortcut,)
    return [QKeySequence(key) for key in keys]


def make_action(spec: ActionSpec, parent: QWidget) -> QAction:
    """The ``QAction`` of ``spec``, owned by ``parent`` (or by ``spec.widget``, and added to it).

    Parameters
    ----------
    spec : ActionSpec
    parent : QWidget
        The window: its style gives the icon, and it owns the action.

    Returns
    -------
    QAction
    """
    owner = spec.widget if spec.widget is not None else parent
    if spec.build is not None:
        action = spec.build(owner)
    else:
        action = QAction(spec.text, owner)
        if spec.slot is not None:
            action.triggered.connect(spec.slot)
    if spec.shortcut is not None:
        action.setShortcuts(_key_sequences(spec.shortcut))
    if spec.icon is not None:
        action.setIcon(parent.style().standardIcon(spec.icon))
    if spec.tip:
        action.setStatusTip(spec.tip)
        action.setToolTip(spec.tip)
    if spec.checkable:
        action.setCheckable(True)
        action.setChecked(spec.checked)
    if spec.widget is not None:
        action.setShortcutContext(Qt.ShortcutContext.WidgetShortcut)
        spec.widget.addAction(action)
    return action


def make_actions(specs: Iterable[ActionSpec], parent: QWidget) -> dict[str, QAction]:
    """``make_action`` for each spec, by name (two specs of one name are a mistake)."""
    actions: dict[str, QAction] = {}
    for spec in specs:
        if spec.name in actions:
            raise ValueError(f"two actions named {spec.name!r}")
        actions[spec.name] = make_action(spec, parent)
    return actions


def joined_actions(*groups: dict[str, QAction]) -> dict[str, QAction]:
    """The actions of several parts in one mapping by name (one name in two parts is a mistake)."""
    joined: dict[str, QAction] = {}
    for group in groups:
        if clash := joined.keys() & group.keys():
            raise ValueError(f"actions named twice: {sorted(clash)}")
        joined |= group
    return joined


def update_enabled(specs: Iterable[ActionSpec], actions: dict[str, QAction]) -> None:
    """Enable each of ``actions`` whose spec has an ``enabled_when`` as that says now."""
    for spec in specs:
        if spec.enabled_when is not None:
            actions[spec.name].setEnabled(spec.enabled_when())
