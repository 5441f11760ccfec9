"""The app's colours and fonts, in one place: every widget that colours or emboldens text asks here.

Row colours are light backgrounds with dark text of the same hue, readable under light and
dark palettes alike; a legend under the table names them (``digitsum_gui.table.legend``).
Fonts are derived from the font a widget already has, so the desktop's size and family stay.
"""

from __future__ import annotations

from PySide6.QtGui import QColor, QFont, QFontDatabase

# --- the table's rows (and the legend's swatches) ----------------------------------------------
ERROR_BACKGROUND, ERROR_FOREGROUND = QColor("#f8d7da"), QColor("#721c24")  # the file could not be read
DOUBT_BACKGROUND, DOUBT_FOREGROUND = QColor("#fff3cd"), QColor("#664d03")  # read with little confidence
# A known sum that differs from the model's: blue where it was typed here, lavender where it
# came with the folder's labels.csv (a sum nobody corrected never reads as a correction).
CORRECTED_BACKGROUND, CORRECTED_FOREGROUND = QColor("#d1ecf1"), QColor("#0c5460")
FROM_FOLDER_BACKGROUND, FROM_FOLDER_FOREGROUND = QColor("#e2d9f3"), QColor("#3d2a6b")

# --- text that says something is wrong: an unreadable file, a doubtful digit, a sum refused -----
PROBLEM_RED = "#b02a37"

# --- the Retrain dialog's training chart: one hue per series ------------------------------------
STEP_COLOR = QColor("#9db7d5")
TRAIN_COLOR = QColor("#1f5fa8")
VAL_LOSS_COLOR = QColor("#d9822b")
ACC_COLOR = QColor("#2e8540")
BEST_COLOR = QColor("#c0392b")


def problem_style(problem: bool = True) -> str:
    """A style sheet that draws a widget's text in ``PROBLEM_RED`` (or, ``problem`` false, as usual).

    Parameters
    ----------
    problem : bool
        Whether the text says something is wrong now.

    Returns
    -------
    str
        ``"color: #b02a37;"``, or ``""`` to go back to the palette's colour.
    """
    return f"color: {PROBLEM_RED};" if problem else ""


def swatch_style(background: QColor, foreground: QColor) -> str:
    """A style sheet that makes a label look like a table row of these colours (the legend's swatches)."""
    return f"background: {background.name()}; color: {foreground.name()}; padding: 1px 6px; border-radius: 3px;"


def bold(font: QFont | None = None) -> QFont:
    """A bold copy of ``font`` (None: the application's default font).

    Parameters
    ----------
    font : QFont, optional
        Usually the widget's or item's own font, so that only the weight changes.

    Returns
    -------
    QFont
        A new font; ``font`` itself is left as it was.
    """
    made = QFont() if font is None else QFont(font)
    made.setBold(True)
    return made


def scaled(font: QFont, factor: float) -> QFont:
    """A copy of ``font`` ``factor`` times its point size (titles, the detail pane's large sum)."""
    made = QFont(font)
    made.setPointSizeF(font.pointSizeF() * factor)
    return made


def fixed_font() -> QFont:
    """The desktop's fixed-width font: for commands and logs, whose columns must line up."""
    return QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
