"""STAND-INS FOR PYTHONQT, NOT QT: pure-Python ``qt`` and ``ctk`` modules with the few widgets the module's .ui
holds, behaving as PythonQt shows them to Python (Qt properties as attributes, signals as objects with
connect/emit, ``widget.connect('signal(args)', slot)``, signals blocked by ``blockSignals``). PythonQt is not on
PyPI and no Slicer runs here; everything else in these tests is Slicer's own code (its parameterNodeWrapper,
ScriptedLoadableModule, i18n from ../shared/slicer-python) on Slicer's own MRML (slicer-core).

Also stand-ins for what only the Slicer application provides: ``QSettings`` (in memory), ``QTimer`` (ticks when
the test says), the .ui loader (reads the .ui's XML: widget classes, names, properties, combo items), and the
input / file dialogs (answer as the test scripts them). No PySide6: this runs in a stock Slicer's package set.
"""
from __future__ import annotations

import inspect
import sys
import types
import xml.etree.ElementTree as ElementTree

timers: list = []
slot_errors: list = []  # exceptions raised in slots: PythonQt prints them and goes on, so the test reads them here


class Signal:
    def __init__(self) -> None:
        self._slots: list = []

    def connect(self, slot) -> None:
        self._slots.append(slot)

    def disconnect(self, slot=None) -> None:
        self._slots = [s for s in self._slots if slot is not None and s != slot]

    def emit(self, *args) -> None:
        for slot in list(self._slots):
            try:
                slot(*args[:_arity(slot, len(args))])  # PythonQt calls a slot with as many arguments as it takes
            except Exception as error:  # noqa: BLE001 - as PythonQt: reported, the GUI goes on
                slot_errors.append(f"{type(error).__name__}: {error}")


def _arity(slot, given: int) -> int:
    try:
        parameters = inspect.signature(slot).parameters.values()
    except (TypeError, ValueError):
        return given
    if any(p.kind == p.VAR_POSITIONAL for p in parameters):
        return given
    return min(given, len([p for p in parameters if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]))


class QObject:
    SIGNALS: tuple = ()

    def __init__(self, parent=None) -> None:
        object.__setattr__(self, "_properties", {})
        object.__setattr__(self, "_children", [])
        object.__setattr__(self, "_parent", parent)
        object.__setattr__(self, "_blocked", False)
        self.name = ""  # PythonQt: objectName
        for cls in type(self).__mro__:
            for signal in getattr(cls, "SIGNALS", ()):
                if signal not in self.__dict__:
                    object.__setattr__(self, signal, Signal())
        if parent is not None:
            parent._children.append(self)

    def property(self, name: str):
        return self._properties.get(name)

    def setProperty(self, name: str, value) -> None:
        self._properties[name] = value

    def parent(self):
        return self._parent

    def children(self) -> list:
        return list(self._children)

    def findChildren(self, cls) -> list:
        found = []
        for child in self._children:
            if isinstance(child, cls):
                found.append(child)
            found += child.findChildren(cls)
        return found

    def blockSignals(self, blocked: bool) -> bool:
        was = self._blocked
        object.__setattr__(self, "_blocked", bool(blocked))
        return was

    def signalsBlocked(self) -> bool:
        return self._blocked

    def connect(self, signature: str, slot) -> None:
        getattr(self, signature.split("(")[0]).connect(slot)

    def _emit(self, signal: str, *args) -> None:
        if not self._blocked:
            getattr(self, signal).emit(*args)


class QWidget(QObject):
    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.enabled, self.visible, self.toolTip, self.text = True, True, "", ""

    def isWidgetType(self) -> bool:
        return True

    def setLayout(self, layout) -> None:
        self._layout = layout

    def layout(self):
        return getattr(self, "_layout", None)

    def show(self) -> None:
        self.visible = True

    def setMRMLScene(self, scene) -> None:
        self.mrmlScene = scene


class QLabel(QWidget):
    pass


class QPushButton(QWidget):
    SIGNALS = ("clicked", "toggled")

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.checkable, self._checked = False, False

    @property
    def checked(self) -> bool:
        return self._checked

    @checked.setter
    def checked(self, value: bool) -> None:
        if bool(value) != self._checked:
            self._checked = bool(value)
            self._emit("toggled", self._checked)

    def click(self) -> None:
        if not self.enabled:
            return
        if self.checkable:
            self.checked = not self.checked
        self._emit("clicked", self.checked)


class QCheckBox(QPushButton):
    SIGNALS = ("stateChanged",)

    @QPushButton.checked.setter
    def checked(self, value: bool) -> None:
        if bool(value) != self._checked:
            self._checked = bool(value)
            self._emit("toggled", self._checked)
            self._emit("stateChanged", 2 if self._checked else 0)


class QComboBox(QWidget):
    SIGNALS = ("currentIndexChanged", "currentTextChanged")

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self._items: list = []
        self._current = -1
        self.editable = False

    @property
    def count(self) -> int:
        return len(self._items)

    @property
    def currentIndex(self) -> int:
        return self._current

    @currentIndex.setter
    def currentIndex(self, index: int) -> None:
        self.setCurrentIndex(index)

    def setCurrentIndex(self, index: int) -> None:
        index = index if -1 <= index < len(self._items) else -1
        if index != self._current:
            self._current = index
            self._emit("currentIndexChanged", index)

    @property
    def currentData(self):
        return self._items[self._current][1] if self._current >= 0 else None

    @property
    def currentText(self) -> str:
        return self._items[self._current][0] if self._current >= 0 else ""

    def addItem(self, text: str, data=None) -> None:
        self._items.append((text, data))
        if self._current < 0:  # Qt makes the first item current
            self.setCurrentIndex(0)

    def clear(self) -> None:
        self._items = []
        self.setCurrentIndex(-1)

    def findData(self, data) -> int:
        return next((i for i, (_t, d) in enumerate(self._items) if d == data), -1)

    def findText(self, text: str) -> int:
        return next((i for i, (t, _d) in enumerate(self._items) if t == text), -1)

    def itemText(self, index: int) -> str:
        return self._items[index][0]

    def itemData(self, index: int):
        return self._items[index][1]


class QAbstractSpinBox(QWidget):
    SIGNALS = ("valueChanged",)

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.minimum, self.maximum, self._value, self.singleStep, self.decimals = 0, 99, 0, 1, 2

    def setRange(self, low, high) -> None:
        self.minimum, self.maximum = low, high

    def setMinimum(self, low) -> None:
        self.minimum = low

    def setMaximum(self, high) -> None:
        self.maximum = high

    def _kept(self, value):
        return min(max(value, self.minimum), self.maximum)

    @property
    def value(self):
        return self._value

    @value.setter
    def value(self, value) -> None:
        value = self._kept(value)
        if value != self._value:
            self._value = value
            self._emit("valueChanged", value)


class QSpinBox(QAbstractSpinBox):
    def _kept(self, value):
        return int(super()._kept(int(value)))


class QDoubleSpinBox(QAbstractSpinBox):
    def _kept(self, value):
        return round(float(super()._kept(float(value))), int(self.decimals))  # Qt rounds to its decimals


class QProgressBar(QWidget):
    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.value = 0


class QPlainTextEdit(QWidget):
    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.plainText = ""

    def appendPlainText(self, text: str) -> None:
        self.plainText = f"{self.plainText}\n{text}" if self.plainText else text

    def clear(self) -> None:
        self.plainText = ""

    def toPlainText(self) -> str:
        return self.plainText


class QGroupBox(QWidget):
    pass


class qMRMLNodeComboBox(QWidget):
    """STAND-IN for Slicer's node selector: a current node and its change signal."""
    SIGNALS = ("currentNodeChanged", "currentNodeIDChanged")

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.nodeTypes, self._node = [], None

    def currentNode(self):
        return self._node

    def setCurrentNode(self, node) -> None:
        if node is not self._node:
            self._node = node
            self._emit("currentNodeChanged", node)

    @property
    def currentNodeID(self):
        return self._node.GetID() if self._node is not None else None


class qMRMLWidget(QWidget):
    pass


class QSettings:
    store: dict = {}

    def value(self, key, default=None):
        return self.store.get(key, default)

    def setValue(self, key, value) -> None:
        self.store[key] = value

    def contains(self, key) -> bool:
        return key in self.store


class QApplication:
    cursors: list = []

    @staticmethod
    def setOverrideCursor(cursor) -> None:
        QApplication.cursors.append(cursor)

    @staticmethod
    def restoreOverrideCursor() -> None:
        QApplication.cursors.pop()


class QTimer:
    def __init__(self) -> None:
        self.active, self.slot, self.interval = False, None, 0

    def setInterval(self, milliseconds: int) -> None:
        self.interval = milliseconds

    def connect(self, signal: str, slot) -> None:
        self.slot = slot

    def start(self) -> None:
        self.active = True
        if self not in timers:
            timers.append(self)

    def stop(self) -> None:
        self.active = False


def tick() -> None:
    """One timeout of every running timer (the test's stand-in for Qt's event loop)."""
    for timer in list(timers):
        if timer.active and timer.slot:
            timer.slot()


class QInputDialog(QWidget):
    """STAND-IN: ``exec()`` answers from ``answers`` ((accepted, item index or typed text) pairs), as the user
    would; like the real dialog, its textValue is the current item whether or not the user accepted."""
    answers: list = []
    shown: list = []

    def __init__(self, parent=None) -> None:
        super().__init__(None)
        self._items, self._text = [], ""

    def setWindowTitle(self, title: str) -> None:
        self.windowTitle = title

    def setLabelText(self, text: str) -> None:
        self.labelText = text

    def setComboBoxItems(self, items) -> None:
        self._items = list(items)
        self._text = self._items[0] if self._items else ""

    def setComboBoxEditable(self, editable: bool) -> None:
        self.comboBoxEditable = editable

    def textValue(self) -> str:
        return self._text

    def exec(self) -> int:
        accepted, answer = self.answers.pop(0)  # answer: an item's index, or the text the user typed
        QInputDialog.shown.append(list(self._items))
        if isinstance(answer, str):
            self._text = answer
        elif answer is not None:
            self._text = self._items[answer]
        return 1 if accepted else 0

    exec_ = exec


class QFileDialog:
    folder = ""

    @staticmethod
    def getExistingDirectory(parent=None, caption=""):
        return QFileDialog.folder


class QFile:
    ReadOnly = 1

    def __init__(self, path) -> None:
        self.path = str(path)

    def exists(self) -> bool:
        import os

        return os.path.isfile(self.path)

    def open(self, mode) -> bool:
        return True

    def close(self) -> None:
        pass


WIDGET_CLASSES = {cls.__name__: cls for cls in (QWidget, QLabel, QPushButton, QCheckBox, QComboBox, QSpinBox, QDoubleSpinBox,
                                                 QProgressBar, QPlainTextEdit, qMRMLNodeComboBox, qMRMLWidget)}


class QUiLoader:
    """STAND-IN for Qt's .ui loader: the .ui's widgets (class, name, properties, combo items, parent), no layout."""

    def load(self, qfile):
        root = ElementTree.parse(qfile.path).getroot().find("widget")
        return self._widget(root, None)

    def _widget(self, element, parent):
        cls = WIDGET_CLASSES.get(element.get("class"), {"ctkCollapsibleButton": ctkCollapsibleButton}.get(element.get("class"), QWidget))
        widget = cls(parent)
        widget.name = element.get("name")
        for prop in element.findall("property"):
            value = _value(prop)
            if prop.get("stdset") == "0":
                widget.setProperty(prop.get("name"), value)
            else:
                setattr(widget, prop.get("name"), value)
        for item in element.findall("item"):
            text = item.find("property/string")
            widget.addItem(text.text if text is not None else "")
        for child in element.iter("widget"):
            if child is not element and _parentWidget(element, child):
                self._widget(child, widget)
        return widget


def _parentWidget(element, child) -> bool:
    """Whether ``child`` is a widget directly under ``element`` (through layouts and items, not other widgets)."""
    stack = list(element)
    while stack:
        node = stack.pop()
        if node is child:
            return True
        if node.tag != "widget":
            stack += list(node)
    return False


def _value(prop):
    node = prop[0]
    if node.tag == "bool":
        return node.text == "true"
    if node.tag == "number":
        return int(node.text)
    if node.tag == "double":
        return float(node.text)
    if node.tag == "stringlist":
        return [s.text for s in node.findall("string")]
    return node.text or ""


class QColor:
    pass


class QIcon:
    def __init__(self, path: str = "") -> None:
        self.path = path


def _plain(name: str, base=QWidget):
    return type(name, (base,), {})


ctkCollapsibleButton = _plain("ctkCollapsibleButton")


def install(slicer) -> None:
    """``qt`` and ``ctk`` into sys.modules, and the qMRML widget classes into ``slicer`` (real MRML's module)."""
    qt = types.ModuleType("qt")
    qt.__doc__ = "STAND-IN for PythonQt's qt (pythonqt_standins)"
    for name, value in dict(globals()).items():
        if isinstance(value, type) and name.startswith("Q"):
            setattr(qt, name, value)
    qt.QVBoxLayout = type("QVBoxLayout", (), {"__init__": lambda self, *a: setattr(self, "widgets", []),
                                               "addWidget": lambda self, w: self.widgets.append(w)})
    for name in ("QSlider", "QLineEdit", "QTextEdit", "QFormLayout", "QHBoxLayout", "QMenu", "QAction",
                 "QToolButton", "QMessageBox"):
        setattr(qt, name, _plain(name))
    qt.Qt = types.SimpleNamespace(WaitCursor="wait cursor", ShiftModifier=1)
    qt.QDesktopServices = types.SimpleNamespace(opened=[], openUrl=lambda url: qt.QDesktopServices.opened.append(url))
    qt.QUrl = types.SimpleNamespace(fromLocalFile=lambda path: f"file://{path}")
    ctk = types.ModuleType("ctk")
    ctk.__doc__ = "STAND-IN for PythonQt's ctk (pythonqt_standins)"
    ctk.ctkCollapsibleButton = ctkCollapsibleButton
    for name in ("ctkDoubleSlider", "ctkDoubleSpinBox", "ctkSliderWidget", "ctkColorPickerButton", "ctkDirectoryButton",
                 "ctkPathLineEdit", "ctkRangeWidget", "ctkDoubleRangeSlider", "ctkComboBox", "ctkCheckablePushButton",
                 "ctkCheckBox"):
        setattr(ctk, name, _plain(name))
    sys.modules["qt"], sys.modules["ctk"] = qt, ctk
    slicer.qMRMLNodeComboBox, slicer.qMRMLWidget = qMRMLNodeComboBox, qMRMLWidget
    for name in ("qMRMLSliderWidget", "qMRMLSpinBox", "qMRMLRangeWidget", "qSlicerWidget"):
        setattr(slicer, name, _plain(name))
